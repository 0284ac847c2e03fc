// The signaling path as the engine runs it: a TCP byte stream cut into arbitrary reads, fed to
// FrameReader, each frame decoded. The first input byte chooses the read sizes, so the fuzzer
// explores splits and coalescing as well as frame contents.
//
// Invariants: a decoded frame re-encodes to exactly the bytes it was decoded from; the reader
// never buffers more than one unfinished frame (a hostile len is rejected from its header); an
// error is final for the connection (the engine closes it), so the stream stops there; bad_version
// is set only for a frame whose version byte is wrong.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "wire_codec.h"

using namespace roomlink::wire;

namespace {

void check_frame(const DecodeResult& r, const uint8_t* frame, size_t available) {
    RL_FUZZ_CHECK(r.consumed >= kFrameHeader + 2 && r.consumed <= available);
    RL_FUZZ_CHECK(r.consumed <= kFrameHeader + kMaxFrame);
    std::vector<uint8_t> again;
    RL_FUZZ_CHECK(encode_frame(r.message, again));
    RL_FUZZ_CHECK(again.size() == r.consumed);
    RL_FUZZ_CHECK(std::equal(again.begin(), again.end(), frame));
}

// decode_frame alone, on the whole input: what the reader must agree with.
void decode_whole(const uint8_t* data, size_t size) {
    size_t offset = 0;
    while (offset < size) {
        DecodeResult r = decode_frame(data + offset, size - offset);
        if (r.status != DecodeStatus::kFrame) {
            RL_FUZZ_CHECK(r.consumed == 0);
            RL_FUZZ_CHECK(r.status == DecodeStatus::kNeedMore || !r.error.empty());
            // bad_version (the peer then gets ERROR "unsupported version") means exactly that.
            RL_FUZZ_CHECK(!r.bad_version || (r.status == DecodeStatus::kError &&
                                             size - offset > kFrameHeader &&
                                             data[offset + kFrameHeader] != kVersion));
            return;
        }
        check_frame(r, data + offset, size - offset);
        offset += r.consumed;
    }
}

void read_in_pieces(const uint8_t* data, size_t size, uint8_t split_seed) {
    FrameReader reader;
    std::vector<uint8_t> fed;  // everything appended so far, to compare decoded frames against
    size_t frame_start = 0;
    size_t offset = 0;
    uint32_t state = split_seed | 1u;
    while (offset < size) {
        state = state * 1103515245u + 12345u;  // deterministic piece sizes from the seed byte
        size_t piece = 1 + (state >> 16) % 64;
        if (piece > size - offset) {
            piece = size - offset;
        }
        reader.append(data + offset, piece);
        fed.insert(fed.end(), data + offset, data + offset + piece);
        offset += piece;
        for (;;) {
            DecodeResult r = reader.next();
            if (r.status == DecodeStatus::kError) {
                return;
            }
            if (r.status == DecodeStatus::kNeedMore) {
                RL_FUZZ_CHECK(reader.buffered() == fed.size() - frame_start);
                RL_FUZZ_CHECK(reader.buffered() < kFrameHeader + kMaxFrame);
                break;
            }
            check_frame(r, fed.data() + frame_start, fed.size() - frame_start);
            frame_start += r.consumed;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    decode_whole(data + 1, size - 1);
    read_in_pieces(data + 1, size - 1, data[0]);
    return 0;
}
