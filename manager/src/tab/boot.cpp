// The initramfs's share of deltalogtab (boot.hpp).
#include "tab/boot.hpp"

#include "tab/cmdline.hpp"

#include <algorithm>
#include <string>

namespace deltalogctl::tab {

std::vector<std::string> activate_args(const TabEntry &e)
{
	std::vector<std::string> args{"activate", e.name, e.origin.node(), e.delta.node()};
	if (!e.on_full.empty())
		args.insert(args.end(), {"--on-full", e.on_full});
	if (e.commit_ms)
		args.insert(args.end(), {"--commit-ms", std::to_string(*e.commit_ms)});
	switch (e.boot.kind) {
	case BootPolicy::Kind::keep:
		break;
	case BootPolicy::Kind::rollback:
		args.push_back("--rollback-all");
		break;
	case BootPolicy::Kind::rollback_to:
		args.insert(args.end(), {"--rollback-to", e.boot.to});
		break;
	}
	return args;
}

InitramfsPlan plan_initramfs(std::string_view tab_text, const std::string &tab_path, std::string_view cmdline)
{
	InitramfsPlan plan;
	const CmdlineConfig config = parse_cmdline(cmdline, true);
	plan.errors = config.errors;
	plan.enabled = config.enabled;
	if (!plan.enabled)
		return plan;
	TabContents tab;
	if (config.use_tab)
		tab = parse_tab(tab_text, tab_path);
	plan.errors.insert(plan.errors.end(), tab.errors.begin(), tab.errors.end());
	for (TabEntry &e : apply_cmdline(std::move(tab.entries), config, plan.errors))
		if (e.root || e.initrd)
			plan.entries.push_back(std::move(e));
	std::stable_partition(plan.entries.begin(), plan.entries.end(), [](const TabEntry &e) { return e.root; });
	return plan;
}

} // namespace deltalogctl::tab
