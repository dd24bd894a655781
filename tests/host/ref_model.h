// SPDX-License-Identifier: GPL-2.0
// The reference model that the model-based test (test_model.cpp) and the
// fuzzer (fuzz_pool.cpp) check zspp against: for each live handle, the size
// it was allocated with and, once it has been written in full, the bytes it
// must hold. Each caller drives its own operations (its own randomness,
// its own way of failing); this is what they agree an object is.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

namespace refmodel {

// Increasing over a process: the order objects were added in (atomic: the
// model test's threads each keep a model).
inline uint64_t next_ref_seq()
{
	static std::atomic<uint64_t> seq;
	return seq.fetch_add(1, std::memory_order_relaxed) + 1;
}

struct RefObj {
	size_t size;
	bool known;                // content defined (written in full at least once)
	std::vector<uint8_t> data; // reference content
	uint64_t seq = next_ref_seq();

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

	// The handle of the @i-th live object in the order they were added
	// (@i < size()). Not handle order: handles are kmalloc addresses, which
	// depend on what the process did before, so a fuzzer's crash input
	// would not replay on its own.
	unsigned long nth(size_t i) const
	{
		std::vector<std::pair<uint64_t, unsigned long>> by_age;
		by_age.reserve(size());
		for (auto &[h, o] : *this)
			by_age.emplace_back(o.seq, h);
		std::nth_element(by_age.begin(), by_age.begin() + long(i), by_age.end());
		return by_age[i].second;
	}
};

} // namespace refmodel
