#include "wire_codec.h"

#include <algorithm>
#include <type_traits>

namespace roomlink::wire {
namespace {

class Writer {
public:
    explicit Writer(std::vector<uint8_t>& out) : out_(out) {}

    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) { be(v, 2); }
    void u32(uint32_t v) { be(v, 4); }
    void u64(uint64_t v) { be(v, 8); }
    void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
    void str(const std::string& s) {
        u16(static_cast<uint16_t>(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void secret(const SessionSecret& s) { out_.insert(out_.end(), s.begin(), s.end()); }
    void raw(const std::vector<uint8_t>& b) { out_.insert(out_.end(), b.begin(), b.end()); }

private:
    void be(uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) {
            out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
    }
    std::vector<uint8_t>& out_;
};

// Reads payload fields; the first failure sticks, so callers check ok() once at the end.
class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    uint8_t u8() { return static_cast<uint8_t>(be(1)); }
    uint16_t u16() { return static_cast<uint16_t>(be(2)); }
    uint32_t u32() { return static_cast<uint32_t>(be(4)); }
    uint64_t u64() { return be(8); }
    int32_t i32() { return static_cast<int32_t>(u32()); }

    std::string str(const char* field, size_t min_len, size_t max_len) {
        size_t len = u16();
        if (!error_.empty()) {
            return {};
        }
        if (len > size_ - pos_) {
            fail(std::string(field) + ": string overflows payload");
            return {};
        }
        std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
        pos_ += len;
        if (len < min_len || len > max_len) {
            fail(std::string(field) + ": length " + std::to_string(len) + " outside " +
                 std::to_string(min_len) + ".." + std::to_string(max_len));
        } else if (!is_valid_utf8(s)) {
            fail(std::string(field) + ": invalid UTF-8");
        }
        return s;
    }

    SessionSecret secret() {
        SessionSecret s{};
        if (need(s.size())) {
            for (auto& b : s) {
                b = data_[pos_++];
            }
        }
        return s;
    }

    // "data: the rest of the frame", min_len..max_len bytes.
    std::vector<uint8_t> rest(const char* field, size_t min_len, size_t max_len) {
        if (!error_.empty()) {
            return {};
        }
        const size_t len = size_ - pos_;
        if (len < min_len || len > max_len) {
            fail(std::string(field) + ": length " + std::to_string(len) + " outside " +
                 std::to_string(min_len) + ".." + std::to_string(max_len));
            return {};
        }
        std::vector<uint8_t> b(data_ + pos_, data_ + size_);
        pos_ = size_;
        return b;
    }

    void finish() {
        if (error_.empty() && pos_ != size_) {
            fail(std::to_string(size_ - pos_) + " trailing bytes");
        }
    }
    void fail(std::string why) {
        if (error_.empty()) {
            error_ = std::move(why);
        }
    }
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }

private:
    bool need(size_t n) {
        if (!error_.empty()) {
            return false;
        }
        if (size_ - pos_ < n) {
            fail("payload truncated");
            return false;
        }
        return true;
    }
    uint64_t be(size_t n) {
        if (!need(n)) {
            return 0;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            v = (v << 8) | data_[pos_++];
        }
        return v;
    }

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    std::string error_;
};

bool within(const std::string& s, size_t min_len, size_t max_len) {
    return s.size() >= min_len && s.size() <= max_len && is_valid_utf8(s);
}

bool data_within(const std::vector<uint8_t>& data) {
    return !data.empty() && data.size() <= kMaxMessageData;
}

// The wire type code of each alternative of Message, in variant order.
constexpr uint8_t kTypeCodes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                                  0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x13, 0x14, 0x15, 0x16};
static_assert(sizeof kTypeCodes == std::variant_size_v<Message>, "one code per alternative");

bool fields_valid(const Message& message) {
    return std::visit(
        [](const auto& m) -> bool {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Join>) {
                return within(m.app_key, 1, kMaxAppKey) && within(m.channel, 1, kMaxChannel) &&
                       within(m.token, 0, kMaxToken);
            } else if constexpr (std::is_same_v<T, JoinOk> || std::is_same_v<T, ResumeOk>) {
                return within(m.media_host, 1, kMaxMediaHost);
            } else if constexpr (std::is_same_v<T, JoinErr> || std::is_same_v<T, SessionEnd> ||
                                 std::is_same_v<T, ServerError>) {
                return within(m.message, 0, kMaxMessage);
            } else if constexpr (std::is_same_v<T, RenewToken>) {
                return within(m.token, 0, kMaxToken);
            } else if constexpr (std::is_same_v<T, MessageFrame>) {
                return data_within(m.data) && m.target <= 1 && (m.target == 1 || m.to_uid == 0);
            } else if constexpr (std::is_same_v<T, RoomMessage>) {
                return data_within(m.data) && m.target <= 1;
            } else {
                return true;
            }
        },
        message);
}

void encode_payload(const Message& message, Writer& w) {
    std::visit(
        [&w](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Join>) {
                w.str(m.app_key);
                w.str(m.channel);
                w.u64(m.uid);
                w.str(m.token);
                w.u64(m.media_key);
                w.secret(m.media_secret);
            } else if constexpr (std::is_same_v<T, JoinOk>) {
                w.u64(m.channel_id);
                w.u64(m.session_id);
                w.secret(m.session_secret);
                w.str(m.media_host);
                w.u16(m.media_port);
                w.u64(m.server_time_ms);
            } else if constexpr (std::is_same_v<T, JoinErr> || std::is_same_v<T, SessionEnd> ||
                                 std::is_same_v<T, ServerError>) {
                w.i32(m.code);
                w.str(m.message);
            } else if constexpr (std::is_same_v<T, Resume>) {
                w.u64(m.session_id);
                w.secret(m.session_secret);
                w.u64(m.media_key);
                w.secret(m.media_secret);
                w.u64(m.last_received);
            } else if constexpr (std::is_same_v<T, ResumeOk>) {
                w.u64(m.channel_id);
                w.u8(m.resumed);
                w.u64(m.session_id);
                w.secret(m.session_secret);
                w.str(m.media_host);
                w.u16(m.media_port);
                w.u64(m.last_accepted);
            } else if constexpr (std::is_same_v<T, MessageFrame>) {
                w.u64(m.seq);
                w.u8(m.target);
                w.u64(m.to_uid);
                w.raw(m.data);
            } else if constexpr (std::is_same_v<T, RoomMessage>) {
                w.u64(m.from_uid);
                w.u8(m.target);
                w.raw(m.data);
            } else if constexpr (std::is_same_v<T, MessageAck> || std::is_same_v<T, StreamAck>) {
                w.u64(m.seq);
            } else if constexpr (std::is_same_v<T, PeerJoined>) {
                w.u64(m.uid);
            } else if constexpr (std::is_same_v<T, PeerLeft>) {
                w.u64(m.uid);
                w.u8(m.reason);
            } else if constexpr (std::is_same_v<T, Ping> || std::is_same_v<T, Pong>) {
                w.u64(m.nonce);
            } else if constexpr (std::is_same_v<T, TokenWillExpire>) {
                w.u64(m.expires_at);
            } else if constexpr (std::is_same_v<T, RenewToken>) {
                w.str(m.token);
            } else if constexpr (std::is_same_v<T, RenewTokenResult>) {
                w.i32(m.code);
                w.u64(m.expires_at);
            } else {
                static_assert(std::is_same_v<T, Leave> || std::is_same_v<T, LeaveOk>);
            }
        },
        message);
}

template <typename CodeMessage>
CodeMessage read_code_message(Reader& r) {
    CodeMessage m;
    m.code = r.i32();
    m.message = r.str("message", 0, kMaxMessage);
    return m;
}

// Decodes the payload of a frame whose type is known to be 1..kLastType and not reserved.
Message decode_payload(uint8_t type, Reader& r) {
    switch (type) {
        case 0x01: {
            Join m;
            m.app_key = r.str("appKey", 1, kMaxAppKey);
            m.channel = r.str("channel", 1, kMaxChannel);
            m.uid = r.u64();
            m.token = r.str("token", 0, kMaxToken);
            m.media_key = r.u64();
            m.media_secret = r.secret();
            return m;
        }
        case 0x02: {
            JoinOk m;
            m.channel_id = r.u64();
            m.session_id = r.u64();
            m.session_secret = r.secret();
            m.media_host = r.str("mediaHost", 1, kMaxMediaHost);
            m.media_port = r.u16();
            m.server_time_ms = r.u64();
            return m;
        }
        case 0x03:
            return read_code_message<JoinErr>(r);
        case 0x04: {
            Resume m;
            m.session_id = r.u64();
            m.session_secret = r.secret();
            m.media_key = r.u64();
            m.media_secret = r.secret();
            m.last_received = r.u64();
            return m;
        }
        case 0x05: {
            ResumeOk m;
            m.channel_id = r.u64();
            m.resumed = r.u8();
            if (m.resumed > 1) {
                r.fail("resumed must be 0 or 1");
            }
            m.session_id = r.u64();
            m.session_secret = r.secret();
            m.media_host = r.str("mediaHost", 1, kMaxMediaHost);
            m.media_port = r.u16();
            m.last_accepted = r.u64();
            return m;
        }
        case 0x06:
            return Leave{};
        case 0x07:
            return LeaveOk{};
        case 0x08: {
            PeerJoined m;
            m.uid = r.u64();
            return m;
        }
        case 0x09: {
            PeerLeft m;
            m.uid = r.u64();
            m.reason = r.u8();
            return m;
        }
        case 0x0A: {
            Ping m;
            m.nonce = r.u64();
            return m;
        }
        case 0x0B: {
            Pong m;
            m.nonce = r.u64();
            return m;
        }
        case 0x0C:
            return read_code_message<SessionEnd>(r);
        case 0x0E: {
            TokenWillExpire m;
            m.expires_at = r.u64();
            return m;
        }
        case 0x0F: {
            RenewToken m;
            m.token = r.str("token", 0, kMaxToken);
            return m;
        }
        case 0x10: {
            RenewTokenResult m;
            m.code = r.i32();
            m.expires_at = r.u64();
            return m;
        }
        case 0x13: {
            MessageFrame m;
            m.seq = r.u64();
            m.target = r.u8();
            m.to_uid = r.u64();
            if (r.ok() && m.target > 1) {
                r.fail("target must be 0 or 1");
            } else if (r.ok() && m.target == 0 && m.to_uid != 0) {
                r.fail("toUid must be 0 when target = 0");
            }
            m.data = r.rest("data", 1, kMaxMessageData);
            return m;
        }
        case 0x14: {
            MessageAck m;
            m.seq = r.u64();
            return m;
        }
        case 0x15: {
            RoomMessage m;
            m.from_uid = r.u64();
            m.target = r.u8();
            if (r.ok() && m.target > 1) {
                r.fail("target must be 0 or 1");
            }
            m.data = r.rest("data", 1, kMaxMessageData);
            return m;
        }
        case 0x16: {
            StreamAck m;
            m.seq = r.u64();
            return m;
        }
        default:
            return read_code_message<ServerError>(r);
    }
}

uint32_t read_u32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

DecodeResult error_result(std::string why, bool bad_version = false) {
    DecodeResult r;
    r.status = DecodeStatus::kError;
    r.error = std::move(why);
    r.bad_version = bad_version;
    return r;
}

}  // namespace

uint8_t type_code(const Message& message) { return kTypeCodes[message.index()]; }

const char* type_name(uint8_t code) {
    static const char* const names[] = {"JOIN",       "JOIN_OK",     "JOIN_ERR",  "RESUME",
                                        "RESUME_OK",  "LEAVE",       "LEAVE_OK",  "PEER_JOINED",
                                        "PEER_LEFT",  "PING",        "PONG",      "SESSION_END",
                                        "ERROR",      "TOKEN_WILL_EXPIRE", "RENEW_TOKEN",
                                        "RENEW_TOKEN_RESULT", "UNKNOWN", "UNKNOWN",
                                        "MESSAGE",    "MESSAGE_ACK", "ROOM_MESSAGE", "STREAM_ACK"};
    static_assert(sizeof names / sizeof names[0] == kLastType, "one name per type");
    if (code >= 1 && code <= kLastType) {
        return names[code - 1];
    }
    return "UNKNOWN";
}

bool encode_frame(const Message& message, std::vector<uint8_t>& out) {
    if (!fields_valid(message)) {
        return false;
    }
    size_t start = out.size();
    Writer w(out);
    w.u32(0);  // patched below once the payload size is known
    w.u8(kVersion);
    w.u8(type_code(message));
    encode_payload(message, w);
    size_t len = out.size() - start - kFrameHeader;
    for (size_t i = 0; i < 4; ++i) {
        out[start + i] = static_cast<uint8_t>(len >> (8 * (3 - i)));
    }
    return true;
}

DecodeResult decode_frame(const uint8_t* data, size_t size) {
    if (size < kFrameHeader) {
        return {};
    }
    uint32_t len = read_u32(data);
    if (len < 2 || len > kMaxFrame) {
        return error_result("frame length " + std::to_string(len) + " outside 2.." +
                            std::to_string(kMaxFrame));
    }
    if (size >= kFrameHeader + 1 && data[kFrameHeader] != kVersion) {
        return error_result("unsupported version", true);
    }
    if (size >= kFrameHeader + 2) {
        uint8_t type = data[kFrameHeader + 1];
        if (type < 0x01 || type > kLastType || is_reserved_type(type)) {
            return error_result("unknown type " + std::to_string(type));
        }
    }
    if (size - kFrameHeader < len) {
        return {};
    }
    uint8_t type = data[kFrameHeader + 1];
    Reader reader(data + kFrameHeader + 2, len - 2);
    Message message = decode_payload(type, reader);
    reader.finish();
    if (!reader.ok()) {
        return error_result(std::string(type_name(type)) + ": " + reader.error());
    }
    DecodeResult r;
    r.status = DecodeStatus::kFrame;
    r.consumed = kFrameHeader + len;
    r.message = std::move(message);
    return r;
}

void FrameReader::append(const uint8_t* data, size_t size) {
    if (start_ > 0 && start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    }
    buffer_.insert(buffer_.end(), data, data + size);
}

DecodeResult FrameReader::next() {
    DecodeResult r = decode_frame(buffer_.data() + start_, buffer_.size() - start_);
    if (r.status == DecodeStatus::kFrame) {
        start_ += r.consumed;
        if (start_ == buffer_.size()) {
            // Idle connections should not pin a large buffer left over from a big frame.
            buffer_.clear();
            if (buffer_.capacity() > 4096) {
                buffer_.shrink_to_fit();
            }
            start_ = 0;
        }
    } else if (r.status == DecodeStatus::kNeedMore && start_ > 0) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    return r;
}

void encode_media_layout(const MediaPacket& packet, MediaDatagram& out) {
    std::vector<uint8_t> bytes;
    bytes.reserve(kMediaHeaderSize + kMediaPayloadSize);
    Writer w(bytes);
    w.u16(kMediaMagic);
    w.u8(kMediaVersion);
    w.u8(static_cast<uint8_t>(packet.type));
    w.u64(packet.media_key);
    w.u64(packet.counter);
    w.u32(packet.seq);
    w.u64(packet.echo_ns);
    std::copy(bytes.begin(), bytes.end(), out.begin());
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(bytes.size()), out.end(), uint8_t{0});
}

std::optional<MediaPacket> decode_media_header(const uint8_t* data, size_t size) {
    if (size != kMediaPacketSize) {
        return std::nullopt;
    }
    Reader r(data, kMediaHeaderSize);
    uint16_t magic = r.u16();
    uint8_t version = r.u8();
    uint8_t type = r.u8();
    if (magic != kMediaMagic || version != kMediaVersion || type < 1 || type > 4) {
        return std::nullopt;
    }
    MediaPacket p;
    p.type = static_cast<MediaType>(type);
    p.media_key = r.u64();
    p.counter = r.u64();
    return p;
}

void decode_media_payload(const uint8_t* payload, MediaPacket& packet) {
    Reader r(payload, kMediaPayloadSize);
    packet.seq = r.u32();
    packet.echo_ns = r.u64();
}

bool is_valid_utf8(std::string_view text) {
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (n - i <= extra) {
            return false;
        }
        for (size_t k = 1; k <= extra; ++k) {
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        // Reject overlong forms, UTF-16 surrogates and code points beyond U+10FFFF.
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

}  // namespace roomlink::wire
