// SPDX-License-Identifier: GPL-2.0
// The reference model that the model-based test (test_model.cpp) and the
// fuzzer (fuzz_pool.cpp) check zspp against: for each live handle, the size
// it was allocated with and, once it has been written in full, the bytes it
// must hold. Each caller drives its own operations (its own randomness,
// its own way of failing); this is what they agree an object is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <vector>

namespace refmodel {

struct RefObj {
	size_t size;
	bool known;                // content defined (written in full at least once)
	std::vector<uint8_t> data; // reference content

	// obj_write of the first @len bytes (@len <= size): an object not yet
	// known reads as zeros elsewhere, and is known once all of it is written.
	void write_prefix(const uint8_t *bytes, size_t len)
	{
		if (!known)
			data.assign(size, 0);
		memcpy(data.data(), bytes, len);
		known = known || len == size;
	}

	// A whole new content (a write-only map).
	void replace(std::vector<uint8_t> bytes)
	{
		data = std::move(bytes);
		known = true;
	}

	// The first byte at which @p differs from the reference, or -1 (also
	// when the content is not known yet: anything may be read then).
	long diff(const void *p) const
	{
		if (!known)
			return -1;
		const auto *b = static_cast<const uint8_t *>(p);
		for (size_t i = 0; i < size; i++)
			if (b[i] != data[i])
				return long(i);
		return -1;
	}
};

// Live handle -> its reference object.
class RefModel : public std::map<unsigned long, RefObj> {
public:
	// What zspp_pool_stats() must report as bytes_stored.
	size_t bytes_stored() const
	{
		size_t n = 0;
		for (auto &[h, o] : *this)
			n += o.size;
		return n;
	}

	// The handle of the @i-th live object in handle order (@i < size()).
	unsigned long nth(size_t i) const
	{
		auto it = begin();
		std::advance(it, i);
		return it->first;
	}
};

} // namespace refmodel
