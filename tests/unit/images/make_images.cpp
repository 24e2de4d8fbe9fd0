// dlog-make-images IMAGES_DIR CORPUS_DIR: writes the known-bad images and
// the fuzzer's seed corpus (see image_maker.hpp). Run through
// tests/unit/images/regenerate.
#include "image_maker.hpp"

#include "../helpers.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: dlog-make-images IMAGES_DIR CORPUS_DIR\n");
		return 2;
	}
	try {
		for (auto &[name, img] : dlt::images::bad_images())
			dlt::write_file(std::string(argv[1]) + "/" + name, img);
		for (auto &[name, img] : dlt::images::corpus())
			dlt::write_file(std::string(argv[2]) + "/" + name, img);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "dlog-make-images: %s\n", e.what());
		return 1;
	}
	return 0;
}
