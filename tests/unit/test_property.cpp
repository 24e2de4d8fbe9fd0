// Property test: random sequences of writes (unaligned extents, random
// sizes), discards, marks, rollbacks, merges (some interrupted), clean stops
// and reopenings, applied both to the library and to a naive byte-array
// model. At checkpoints, the device image at every seq still reachable must
// be byte-identical to the model's, the origin must equal the model's state
// at merged_seq, and seqs must only ever grow. Small rings so that both wrap
// many times. Fixed seeds: failures are reproducible.
#include "deltalog/errors.hpp"
#include "deltalog/state.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include <fmt/format.h>

using namespace deltalog;

namespace {

// The device as a byte array: the origin at merged_seq plus the live ops.
class Model {
public:
	explicit Model(dlt::Bytes origin) : base_(std::move(origin)) {}

	void write(std::uint64_t seq, std::uint64_t sector, dlt::Bytes data)
	{
		ops_.push_back({seq, sector, data.size() / 512, std::move(data)});
	}
	void zero(std::uint64_t seq, std::uint64_t sector, std::uint64_t n)
	{
		ops_.push_back({seq, sector, n, {}});
	}
	void rollback(std::uint64_t to)
	{
		std::erase_if(ops_, [&](const Op &op) { return op.seq > to; });
	}
	void merge(std::uint64_t to)
	{
		base_ = image(to);
		std::erase_if(ops_, [&](const Op &op) { return op.seq <= to; });
		merged_ = to;
	}
	dlt::Bytes image(std::uint64_t seq) const
	{
		dlt::Bytes img = base_;
		for (const Op &op : ops_) {
			if (op.seq > seq)
				break;
			auto at = img.begin() + static_cast<std::ptrdiff_t>(op.sector * 512);
			if (op.data.empty())
				std::fill_n(at, op.sectors * 512, std::byte{0});
			else
				std::copy(op.data.begin(), op.data.end(), at);
		}
		return img;
	}
	const dlt::Bytes &base() const { return base_; }
	std::uint64_t merged() const { return merged_; }

private:
	struct Op {
		std::uint64_t seq;
		std::uint64_t sector;
		std::uint64_t sectors;
		dlt::Bytes data;	// empty: zeros
	};
	dlt::Bytes base_;
	std::vector<Op> ops_;	// in seq order
	std::uint64_t merged_ = 0;
};

struct Params {
	const char *name;
	std::uint32_t seed;
	std::uint64_t meta_blocks;
	std::uint32_t block_size;
	std::uint64_t origin_sectors;
	int ops;
	std::uint64_t meta_laps;	// the metadata ring must wrap more than this
};

void PrintTo(const Params &p, std::ostream *os)
{
	*os << p.name;
}

class Property : public ::testing::TestWithParam<Params> {
protected:
	void SetUp() override
	{
		const Params &p = GetParam();
		dlt::PairOptions o;
		o.origin_sectors = p.origin_sectors;
		o.meta_blocks = p.meta_blocks;
		o.block_size = p.block_size;
		env_ = std::make_unique<dlt::Env>(o);
		model_ = std::make_unique<Model>(env_->origin_bytes());
		rng_.seed(p.seed);
	}

	std::uint64_t rand(std::uint64_t lo, std::uint64_t hi)	// inclusive
	{
		return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
	}

	Writer &w() { return env_->w(); }

	void saw_seq(std::uint64_t seq)
	{
		ASSERT_GT(seq, last_seq_) << "seq handed out twice or going back";
		last_seq_ = seq;
	}

	// The clock mostly moves on, sometimes stands still or steps back.
	void tick()
	{
		const std::uint64_t r = rand(0, 9);
		if (r == 0)
			*env_->clock.now -= std::min<std::uint64_t>(*env_->clock.now, rand(1, 3'000'000'000));
		else if (r > 2)
			env_->clock.advance(rand(1, 2'000'000'000));
	}

	void merge(std::uint64_t to)
	{
		w().merge(env_->origin, to);
		model_->merge(to);
		ASSERT_EQ(env_->origin_bytes(), model_->base()) << "origin after merge to " << to;
	}

	// Runs an append; when a ring is full, merges (part, then all) and
	// retries, as a user would.
	template <typename F> void with_room(F append)
	{
		for (int attempt = 0;; attempt++) {
			try {
				append();
				return;
			} catch (const LogFullError &) {
				const std::uint64_t newest = w().log().newest_seq();
				const std::uint64_t merged = w().log().sb.merged_seq;
				ASSERT_LT(attempt, 2) << "still full after merging everything";
				merge(attempt == 0 ? rand((merged + newest + 1) / 2, newest) : newest);
				if (HasFatalFailure())
					return;
			}
		}
	}

	void op_write()
	{
		const std::uint64_t origin = env_->pair.sb.origin_sectors;
		const std::uint64_t s = rand(0, origin - 1);
		const std::uint64_t n = rand(1, std::min<std::uint64_t>(rand(0, 2) ? 32 : 200, origin - s));
		const bool csum = rand(0, 4) != 0;
		dlt::Bytes data = dlt::pattern(n * 512, static_cast<std::uint32_t>(rng_()));
		with_room([&] {
			std::uint64_t seq = w().append_write(s, data, csum);
			saw_seq(seq);
			const Record &r = w().log().records.back().rec;
			const std::uint64_t ds = w().log().sb.data_sectors;
			if (r.data_pos / ds != (r.data_pos + r.nr_sectors - 1) / ds)
				straddling_.insert(seq);
			max_data_head_ = std::max(max_data_head_, w().log().data_head);
			max_meta_head_ = std::max(max_meta_head_, w().log().head);
			model_->write(seq, s, data);
		});
	}

	void op_zero()
	{
		const std::uint64_t origin = env_->pair.sb.origin_sectors;
		const std::uint64_t s = rand(0, origin - 1);
		const std::uint64_t n = rand(1, std::min<std::uint64_t>(96, origin - s));
		const bool discard = rand(0, 1);
		with_room([&] {
			std::uint64_t seq = w().append_zero(s, static_cast<std::uint32_t>(n), discard);
			saw_seq(seq);
			model_->zero(seq, s, n);
		});
	}

	void op_mark()
	{
		const std::string label = fmt::format("m{}", rand(0, 20));
		with_room([&] { saw_seq(w().append_mark(label)); });
	}

	void op_rollback()
	{
		const LogState &log = w().log();
		const std::uint64_t newest = log.newest_seq(), merged = log.sb.merged_seq;
		if (newest <= merged)
			return;
		// Mostly to a recent seq, sometimes anywhere.
		const std::uint64_t to = rand(0, 3) ? rand(std::max(merged, newest - std::min<std::uint64_t>(newest, 8)), newest - 1)
						  : rand(merged, newest - 1);
		try {
			std::uint64_t rb = w().rollback(to);
			saw_seq(rb);
			model_->rollback(to);
			rollbacks_++;
		} catch (const RollbackError &e) {
			ASSERT_EQ(e.reason(), RollbackError::Reason::ring_full) << e.what();
			ASSERT_EQ(log.used_meta_blocks(), log.sb.meta_blocks);
			refused_++;
		}
	}

	void op_merge()
	{
		const LogState &log = w().log();
		merge(rand(log.sb.merged_seq, log.newest_seq()));
	}

	void op_interrupted_merge()
	{
		const LogState &log = w().log();
		const std::uint64_t to = rand(log.sb.merged_seq, log.newest_seq());
		const std::size_t after = rand(1, 4);
		MergeHooks crash;
		crash.after_copy = [after](std::size_t copied) {
			if (copied == after)
				throw std::runtime_error("crash");
		};
		try {
			w().merge(env_->origin, to, crash);
		} catch (const std::runtime_error &) {
			env_->reopen();
			ASSERT_TRUE(w().log().sb.merging());
			w().resume_merge(env_->origin);
		}
		model_->merge(to);
		ASSERT_EQ(env_->origin_bytes(), model_->base()) << "origin after resumed merge";
	}

	void verify()
	{
		Device delta = dlt::open_ro(env_->pair.delta);
		Device origin = dlt::open_ro(env_->pair.origin);
		LogState log = recover(delta);
		ASSERT_FALSE(log.cut);
		ASSERT_EQ(log.live(), w().log().live()) << "writer and recovery disagree";
		ASSERT_EQ(log.sb.merged_seq, model_->merged());
		ASSERT_EQ(dlt::read_file(env_->pair.origin), model_->base());
		ASSERT_LE(log.used_data_sectors(), log.sb.data_sectors);
		for (std::uint64_t seq = log.sb.merged_seq; seq <= log.newest_seq(); seq++) {
			ExtentMap map = state_at(log, seq);
			dlt::Bytes img;
			write_image(log, map, delta, origin, [&](std::span<const std::byte> c) {
				img.insert(img.end(), c.begin(), c.end());
			});
			ASSERT_TRUE(img == model_->image(seq)) << "image differs at seq " << seq;
		}
		max_meta_head_ = std::max(max_meta_head_, log.head);
		checks_++;
	}

	std::unique_ptr<dlt::Env> env_;
	std::unique_ptr<Model> model_;
	std::mt19937 rng_;
	std::uint64_t last_seq_ = 0;
	std::uint64_t max_data_head_ = 0, max_meta_head_ = 0;
	int rollbacks_ = 0, refused_ = 0, checks_ = 0;
	std::set<std::uint64_t> straddling_;	// WRITEs whose data wraps the ring's end
};

TEST_P(Property, LibraryMatchesTheModel)
{
	const Params &p = GetParam();
	for (int i = 0; i < p.ops; i++) {
		tick();
		// Every other stretch of 80 ops only appends and merges, so that
		// positions run on and the data ring wraps (rollbacks pull the
		// data head back; a reopen with an empty ring restarts it at 0).
		const bool streaming = (i / 80) % 3 != 0;
		std::uint64_t r = rand(0, 99);
		if (streaming && r >= 74)
			r = r < 90 ? rand(0, 73) : 80;	// more appends, or a merge
		if (r < 50)
			op_write();
		else if (r < 66)
			op_zero();
		else if (r < 74)
			op_mark();
		else if (r < 80)
			op_rollback();
		else if (r < 86)
			op_merge();
		else if (r < 89)
			op_interrupted_merge();
		else if (r < 94 && w().log().has_data)
			env_->reopen();	// (an empty ring would restart at position 0)
		else if (r < 97) {
			w().stop();
			env_->reopen();
		} else {
			w().sync();
		}
		ASSERT_FALSE(HasFatalFailure()) << "op " << i;
		if (i % 20 == 19)
			verify();
		ASSERT_FALSE(HasFatalFailure()) << "after op " << i;
	}
	verify();
	const Superblock &sb = env_->pair.sb;
	// The rings did wrap, several times: WRITEs were written across the end
	// of the data ring, and blocks far past the end of the metadata ring.
	EXPECT_GE(straddling_.size(), 4u) << "WRITEs whose data wraps past the ring's end";
	EXPECT_GT(max_data_head_, 2 * sb.data_sectors);
	EXPECT_GT(max_meta_head_, p.meta_laps * sb.meta_blocks);
	EXPECT_GT(rollbacks_, 5);
	RecordProperty("rollbacks", rollbacks_);
	RecordProperty("refused_rollbacks", refused_);
	RecordProperty("checks", checks_);
	RecordProperty("max_data_head", static_cast<int>(max_data_head_));
	RecordProperty("max_meta_head", static_cast<int>(max_meta_head_));
}

INSTANTIATE_TEST_SUITE_P(
	Seeds, Property,
	::testing::Values(Params{"seed1_512x8", 1, 8, 512, 512, 1000, 3},
			  Params{"seed2_512x8", 2, 8, 512, 512, 1000, 3},
			  Params{"seed3_512x9", 3, 9, 512, 1000, 1000, 3},
			  Params{"seed4_512x12", 4, 12, 512, 777, 1000, 3},
			  Params{"seed5_4096x8", 5, 8, 4096, 512, 1500, 1},
			  Params{"seed6_1024x8", 6, 8, 1024, 2048, 1000, 3}),
	[](const ::testing::TestParamInfo<Params> &i) { return std::string(i.param.name); });

} // namespace
