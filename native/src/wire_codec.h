// Encoding and strict decoding of the protocol (docs/PROTOCOL.md): signaling frames (v1) over TCP
// and the layout of fixed-size media datagrams (v2) over UDP, whose sealing lives in
// media_cipher.h. Pure functions plus a small stream reassembler; no I/O.
#ifndef ROOMLINK_WIRE_CODEC_H
#define ROOMLINK_WIRE_CODEC_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace roomlink::wire {

constexpr uint8_t kVersion = 1;
constexpr uint32_t kMaxFrame = 65536;  // bound on the len field (ver + type + payload)
constexpr size_t kFrameHeader = 4;
constexpr uint8_t kMediaVersion = 2;
constexpr size_t kMediaHeaderSize = 20;   // magic, ver, type, mediaKey, counter: clear, the AEAD's AAD
constexpr size_t kMediaPayloadSize = 12;  // seq, echoNs: sealed
constexpr size_t kMediaTagSize = 16;
constexpr size_t kMediaPacketSize = kMediaHeaderSize + kMediaPayloadSize + kMediaTagSize;
constexpr size_t kMaxDatagram = 1200;
constexpr uint16_t kMediaMagic = 0x524C;

constexpr size_t kMaxAppKey = 64;
constexpr size_t kMaxChannel = 64;
constexpr size_t kMaxToken = 1024;
constexpr size_t kMaxMessage = 512;
constexpr size_t kMaxMediaHost = 255;
constexpr size_t kMaxMessageData = 16384;  // MESSAGE / ROOM_MESSAGE data: 1..16384 bytes

using SessionSecret = std::array<uint8_t, 16>;
using MediaSecret = std::array<uint8_t, 16>;  // keys the session's media AEAD (media_cipher.h)

struct Join {
    std::string app_key;
    std::string channel;
    uint64_t uid = 0;
    std::string token;
    uint64_t media_key = 0;
    MediaSecret media_secret{};
};
struct JoinOk {
    uint64_t channel_id = 0;
    uint64_t session_id = 0;
    SessionSecret session_secret{};
    std::string media_host;
    uint16_t media_port = 0;
    uint64_t server_time_ms = 0;
};
struct JoinErr {
    int32_t code = 0;
    std::string message;
};
struct Resume {
    uint64_t session_id = 0;
    SessionSecret session_secret{};
    uint64_t media_key = 0;
    MediaSecret media_secret{};
    uint64_t last_received = 0;  // the last receiver-stream item processed (Room messages)
};
struct ResumeOk {
    uint64_t channel_id = 0;
    uint8_t resumed = 0;
    uint64_t session_id = 0;
    SessionSecret session_secret{};
    std::string media_host;
    uint16_t media_port = 0;
    uint64_t last_accepted = 0;  // the highest MESSAGE seq the session accepted
};
struct Leave {};
struct LeaveOk {};
struct PeerJoined {
    uint64_t uid = 0;
};
struct PeerLeft {
    uint64_t uid = 0;
    uint8_t reason = 0;
};
struct Ping {
    uint64_t nonce = 0;
};
struct Pong {
    uint64_t nonce = 0;
};
struct SessionEnd {
    int32_t code = 0;
    std::string message;
};
struct ServerError {
    int32_t code = 0;
    std::string message;
};
// Token renewal (docs/PROTOCOL.md, "Token renewal"); expiries are epoch seconds.
struct TokenWillExpire {
    uint64_t expires_at = 0;
};
struct RenewToken {
    std::string token;
};
struct RenewTokenResult {
    int32_t code = 0;  // 0 = accepted
    uint64_t expires_at = 0;
};

// Room messages (docs/PROTOCOL.md, "Room messages"). target: 0 = every other member, 1 = one.
struct MessageFrame {  // MESSAGE (C->S)
    uint64_t seq = 0;
    uint8_t target = 0;
    uint64_t to_uid = 0;  // 0 when target = 0
    std::vector<uint8_t> data;  // 1..kMaxMessageData bytes
};
struct MessageAck {  // cumulative
    uint64_t seq = 0;
};
struct RoomMessage {  // ROOM_MESSAGE (S->C): an item of the receiver stream
    uint64_t from_uid = 0;
    uint8_t target = 0;
    std::vector<uint8_t> data;  // 1..kMaxMessageData bytes
};
struct StreamAck {  // cumulative
    uint64_t seq = 0;
};

// The alternatives in wire order: JOIN = 0x01 ... RENEW_TOKEN_RESULT = 0x10 are index + 1; 0x11
// and 0x12 are reserved (an unknown type, no alternative); MESSAGE = 0x13 ... STREAM_ACK = 0x16
// follow at index 16.. (see type_code / kTypeCodes in wire_codec.cpp).
using Message = std::variant<Join, JoinOk, JoinErr, Resume, ResumeOk, Leave, LeaveOk, PeerJoined,
                             PeerLeft, Ping, Pong, SessionEnd, ServerError, TokenWillExpire,
                             RenewToken, RenewTokenResult, MessageFrame, MessageAck, RoomMessage,
                             StreamAck>;
constexpr uint8_t kLastType = 0x16;
// A type code in 1..kLastType that names no frame (reserved for credentials).
constexpr bool is_reserved_type(uint8_t code) { return code == 0x11 || code == 0x12; }

uint8_t type_code(const Message& message);
const char* type_name(uint8_t type_code);

// Appends one complete frame to out. Returns false (out untouched) if a field breaks its limit.
bool encode_frame(const Message& message, std::vector<uint8_t>& out);

enum class DecodeStatus { kNeedMore, kFrame, kError };

struct DecodeResult {
    DecodeStatus status = DecodeStatus::kNeedMore;
    size_t consumed = 0;       // bytes of the frame (kFrame) or 0
    Message message;           // valid when kFrame
    std::string error;         // why, when kError
    bool bad_version = false;  // kError caused by ver != 1 (peer expects ERROR "unsupported version")
};

// Decodes the frame at the start of data. kNeedMore if the frame is not complete yet; kError as
// soon as the header alone proves the frame invalid (so a hostile len is never buffered).
DecodeResult decode_frame(const uint8_t* data, size_t size);

// Reassembles frames from a byte stream. Keeps no memory once everything has been consumed.
class FrameReader {
public:
    void append(const uint8_t* data, size_t size);
    DecodeResult next();
    size_t buffered() const { return buffer_.size() - start_; }

private:
    std::vector<uint8_t> buffer_;
    size_t start_ = 0;
};

enum class MediaType : uint8_t { kBind = 1, kBindAck = 2, kPing = 3, kPong = 4 };

struct MediaPacket {
    MediaType type = MediaType::kBind;
    uint64_t media_key = 0;
    uint64_t counter = 0;  // the sender's per-key datagram counter: the AEAD nonce
    uint32_t seq = 0;
    uint64_t echo_ns = 0;
};

using MediaDatagram = std::array<uint8_t, kMediaPacketSize>;

// The clear header of `packet` into out[0, kMediaHeaderSize) and its payload, still to be sealed,
// into out[kMediaHeaderSize, kMediaHeaderSize + kMediaPayloadSize); the tag is left to the AEAD.
void encode_media_layout(const MediaPacket& packet, MediaDatagram& out);
// The header fields (type, media_key, counter) of a datagram, or nullopt for the wrong size,
// magic or version, or an unknown type. Nothing in it is authentic until the tag is checked.
std::optional<MediaPacket> decode_media_header(const uint8_t* data, size_t size);
// seq and echoNs from the kMediaPayloadSize opened payload bytes.
void decode_media_payload(const uint8_t* payload, MediaPacket& packet);

bool is_valid_utf8(std::string_view text);

}  // namespace roomlink::wire

#endif
