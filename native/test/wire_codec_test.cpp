// Golden vectors shared with the Java server (docs/vectors) plus stream reassembly and limits.
#include "wire_codec.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "media_cipher.h"
#include "test_support.h"

using namespace roomlink::wire;
using roomlink::AeadKey;
using roomlink::derive_media_keys;
using roomlink::MediaCipher;
using roomlink::MediaKeys;
using Fields = std::map<std::string, std::string>;

namespace {

struct Vector {
    std::string name;
    Fields fields;
    std::vector<uint8_t> bytes;
};

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

std::string to_hex(const uint8_t* data, size_t size) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}
std::string to_hex(const std::vector<uint8_t>& v) { return to_hex(v.data(), v.size()); }

std::vector<std::vector<std::string>> read_table(const std::string& file) {
    std::ifstream in(std::string(ROOMLINK_VECTORS_DIR) + "/" + file);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (trim(line).empty() || trim(line)[0] == '#') {
            continue;
        }
        std::vector<std::string> columns;
        size_t start = 0;
        for (size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
            columns.push_back(trim(line.substr(start, bar - start)));
        }
        columns.push_back(trim(line.substr(start)));
        rows.push_back(columns);
    }
    return rows;
}

std::vector<Vector> valid_vectors() {
    std::vector<Vector> out;
    for (const auto& row : read_table("protocol.txt")) {
        Vector v;
        v.name = row.at(0);
        std::string fields = row.at(1);
        size_t start = 0;
        while (start < fields.size()) {
            size_t end = fields.find(';', start);
            if (end == std::string::npos) {
                end = fields.size();
            }
            std::string pair = fields.substr(start, end - start);
            size_t eq = pair.find('=');
            v.fields[pair.substr(0, eq)] = pair.substr(eq + 1);
            start = end + 1;
        }
        v.bytes = from_hex(row.at(2));
        out.push_back(v);
    }
    return out;
}

uint64_t u64(const Fields& f, const char* key) { return std::stoull(f.at(key)); }
SessionSecret secret(const Fields& f, const char* key = "sessionSecret") {
    SessionSecret s{};
    auto bytes = from_hex(f.at(key));
    for (size_t i = 0; i < s.size(); ++i) {
        s[i] = bytes.at(i);
    }
    return s;
}

// The message a vector describes; the vector's name tells the type.
Message build(const std::string& name, const Fields& f) {
    if (name == "join" || name == "join_unicode") {
        return Join{f.at("appKey"), f.at("channel"), u64(f, "uid"), f.at("token"),
                    u64(f, "mediaKey"), secret(f, "mediaSecret")};
    }
    if (name == "join_ok") {
        return JoinOk{u64(f, "channelId"), u64(f, "sessionId"), secret(f), f.at("mediaHost"),
                      static_cast<uint16_t>(u64(f, "mediaPort")), u64(f, "serverTimeMs")};
    }
    if (name == "join_err") return JoinErr{std::stoi(f.at("code")), f.at("message")};
    if (name == "resume" || name == "resume_last_received_max") {
        return Resume{u64(f, "sessionId"), secret(f), u64(f, "mediaKey"), secret(f, "mediaSecret"),
                      u64(f, "lastReceived")};
    }
    if (name == "resume_ok" || name == "resume_ok_fresh_accepted") {
        return ResumeOk{u64(f, "channelId"), static_cast<uint8_t>(u64(f, "resumed")),
                        u64(f, "sessionId"), secret(f), f.at("mediaHost"),
                        static_cast<uint16_t>(u64(f, "mediaPort")), u64(f, "lastAccepted")};
    }
    if (name.rfind("message_", 0) == 0 && name != "message_ack") {
        return MessageFrame{u64(f, "seq"), static_cast<uint8_t>(u64(f, "target")), u64(f, "toUid"),
                            from_hex(f.at("data"))};
    }
    if (name == "message_ack") return MessageAck{u64(f, "seq")};
    if (name.rfind("room_message", 0) == 0) {
        return RoomMessage{u64(f, "fromUid"), static_cast<uint8_t>(u64(f, "target")),
                           from_hex(f.at("data"))};
    }
    if (name == "stream_ack") return StreamAck{u64(f, "seq")};
    if (name == "leave") return Leave{};
    if (name == "leave_ok") return LeaveOk{};
    if (name == "peer_joined") return PeerJoined{u64(f, "uid")};
    if (name == "peer_left") {
        return PeerLeft{u64(f, "uid"), static_cast<uint8_t>(u64(f, "reason"))};
    }
    if (name == "ping") return Ping{u64(f, "nonce")};
    if (name == "pong") return Pong{u64(f, "nonce")};
    if (name == "session_end") return SessionEnd{std::stoi(f.at("code")), f.at("message")};
    if (name == "error") return ServerError{std::stoi(f.at("code")), f.at("message")};
    if (name == "token_will_expire") return TokenWillExpire{u64(f, "expiresAt")};
    if (name == "renew_token") return RenewToken{f.at("token")};
    if (name == "renew_token_result" || name == "renew_token_result_refused") {
        return RenewTokenResult{std::stoi(f.at("code")), u64(f, "expiresAt")};
    }
    throw std::runtime_error("vector with unknown name " + name);
}

std::string hex_secret(const SessionSecret& s) { return to_hex(s.data(), s.size()); }

Fields fields_of(const Message& message) {
    Fields f;
    std::visit(
        [&f](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Join>) {
                f = {{"appKey", m.app_key}, {"channel", m.channel}, {"uid", std::to_string(m.uid)},
                     {"token", m.token}, {"mediaKey", std::to_string(m.media_key)},
                     {"mediaSecret", hex_secret(m.media_secret)}};
            } else if constexpr (std::is_same_v<T, JoinOk>) {
                f = {{"channelId", std::to_string(m.channel_id)},
                     {"sessionId", std::to_string(m.session_id)},
                     {"sessionSecret", hex_secret(m.session_secret)},
                     {"mediaHost", m.media_host},
                     {"mediaPort", std::to_string(m.media_port)},
                     {"serverTimeMs", std::to_string(m.server_time_ms)}};
            } else if constexpr (std::is_same_v<T, JoinErr> || std::is_same_v<T, SessionEnd> ||
                                 std::is_same_v<T, ServerError>) {
                f = {{"code", std::to_string(m.code)}, {"message", m.message}};
            } else if constexpr (std::is_same_v<T, Resume>) {
                f = {{"sessionId", std::to_string(m.session_id)},
                     {"sessionSecret", hex_secret(m.session_secret)},
                     {"mediaKey", std::to_string(m.media_key)},
                     {"mediaSecret", hex_secret(m.media_secret)},
                     {"lastReceived", std::to_string(m.last_received)}};
            } else if constexpr (std::is_same_v<T, ResumeOk>) {
                f = {{"channelId", std::to_string(m.channel_id)},
                     {"resumed", std::to_string(m.resumed)},
                     {"sessionId", std::to_string(m.session_id)},
                     {"sessionSecret", hex_secret(m.session_secret)},
                     {"mediaHost", m.media_host},
                     {"mediaPort", std::to_string(m.media_port)},
                     {"lastAccepted", std::to_string(m.last_accepted)}};
            } else if constexpr (std::is_same_v<T, MessageFrame>) {
                f = {{"seq", std::to_string(m.seq)}, {"target", std::to_string(m.target)},
                     {"toUid", std::to_string(m.to_uid)}, {"data", to_hex(m.data)}};
            } else if constexpr (std::is_same_v<T, RoomMessage>) {
                f = {{"fromUid", std::to_string(m.from_uid)}, {"target", std::to_string(m.target)},
                     {"data", to_hex(m.data)}};
            } else if constexpr (std::is_same_v<T, MessageAck> || std::is_same_v<T, StreamAck>) {
                f = {{"seq", std::to_string(m.seq)}};
            } else if constexpr (std::is_same_v<T, PeerJoined>) {
                f = {{"uid", std::to_string(m.uid)}};
            } else if constexpr (std::is_same_v<T, PeerLeft>) {
                f = {{"uid", std::to_string(m.uid)}, {"reason", std::to_string(m.reason)}};
            } else if constexpr (std::is_same_v<T, Ping> || std::is_same_v<T, Pong>) {
                f = {{"nonce", std::to_string(m.nonce)}};
            } else if constexpr (std::is_same_v<T, TokenWillExpire>) {
                f = {{"expiresAt", std::to_string(m.expires_at)}};
            } else if constexpr (std::is_same_v<T, RenewToken>) {
                f = {{"token", m.token}};
            } else if constexpr (std::is_same_v<T, RenewTokenResult>) {
                f = {{"code", std::to_string(m.code)}, {"expiresAt", std::to_string(m.expires_at)}};
            }
        },
        message);
    return f;
}

std::string describe(const Fields& f) {
    std::string out;
    for (const auto& [k, v] : f) {
        out += k + "=" + v + ";";
    }
    return out;
}

bool is_media(const std::string& name) { return name.rfind("media_", 0) == 0; }

MediaType media_type(const std::string& name) {
    if (name == "media_bind") return MediaType::kBind;
    if (name == "media_bind_ack") return MediaType::kBindAck;
    if (name == "media_ping" || name == "media_ping_high_counter") return MediaType::kPing;
    return MediaType::kPong;
}

}  // namespace

TEST(vectors_file_is_complete) {
    auto vectors = valid_vectors();
    CHECK_EQ(vectors.size(), size_t{33});  // update when docs/vectors grows
    auto invalid = read_table("invalid.txt");
    CHECK(invalid.size() >= 10);
}

TEST(signal_vectors_encode_to_golden_bytes) {
    for (const auto& v : valid_vectors()) {
        if (is_media(v.name)) continue;
        std::vector<uint8_t> out;
        REQUIRE(encode_frame(build(v.name, v.fields), out));
        CHECK_EQ(to_hex(out), to_hex(v.bytes));
    }
}

TEST(signal_vectors_decode_to_golden_fields) {
    for (const auto& v : valid_vectors()) {
        if (is_media(v.name)) continue;
        DecodeResult r = decode_frame(v.bytes.data(), v.bytes.size());
        REQUIRE(r.status == DecodeStatus::kFrame);
        CHECK_EQ(r.consumed, v.bytes.size());
        CHECK_EQ(type_code(r.message), type_code(build(v.name, v.fields)));
        CHECK_EQ(describe(fields_of(r.message)), describe(v.fields));
    }
}

TEST(media_keys_derive_to_golden_bytes) {
    int seen = 0;
    for (const auto& v : valid_vectors()) {
        if (v.name != "media_keys") continue;
        ++seen;
        MediaKeys keys = derive_media_keys(u64(v.fields, "mediaKey"), secret(v.fields, "mediaSecret"));
        CHECK_EQ(to_hex(keys.client_to_server.data(), keys.client_to_server.size()) +
                     to_hex(keys.server_to_client.data(), keys.server_to_client.size()),
                 to_hex(v.bytes));
    }
    CHECK_EQ(seen, 1);
}

bool sent_by_client(MediaType t) { return t == MediaType::kBind || t == MediaType::kPing; }

TEST(media_vectors_seal_and_open_to_golden_bytes) {
    int seen = 0;
    for (const auto& v : valid_vectors()) {
        if (!is_media(v.name) || v.name == "media_keys") continue;
        ++seen;
        MediaPacket p;
        p.type = media_type(v.name);
        p.media_key = u64(v.fields, "mediaKey");
        p.counter = u64(v.fields, "counter");
        p.seq = static_cast<uint32_t>(u64(v.fields, "seq"));
        p.echo_ns = u64(v.fields, "echoNs");
        MediaKeys keys = derive_media_keys(p.media_key, secret(v.fields, "mediaSecret"));
        const AeadKey& key = sent_by_client(p.type) ? keys.client_to_server : keys.server_to_client;
        const AeadKey& other = sent_by_client(p.type) ? keys.server_to_client : keys.client_to_server;
        MediaCipher cipher(key);
        MediaDatagram bytes{};
        REQUIRE(cipher.seal(p, &bytes));
        CHECK_EQ(to_hex(bytes.data(), bytes.size()), to_hex(v.bytes));
        auto opened = cipher.open(v.bytes.data(), v.bytes.size());
        REQUIRE(opened.has_value());
        CHECK(opened->type == p.type);
        CHECK_EQ(opened->media_key, p.media_key);
        CHECK_EQ(opened->counter, p.counter);
        CHECK_EQ(opened->seq, p.seq);
        CHECK_EQ(opened->echo_ns, p.echo_ns);
        // The other direction's key opens nothing: a reflected datagram is not an answer.
        MediaCipher wrong(other);
        CHECK(!wrong.open(v.bytes.data(), v.bytes.size()).has_value());
    }
    CHECK_EQ(seen, 5);
}

TEST(every_flipped_bit_of_a_datagram_fails_authentication) {
    MediaSecret s{};
    s[0] = 1;
    MediaCipher cipher(derive_media_keys(42, s).client_to_server);
    MediaDatagram good{};
    REQUIRE(cipher.seal(MediaPacket{MediaType::kPing, 42, 9, 10, 11}, &good));
    REQUIRE(cipher.open(good.data(), good.size()).has_value());
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
        MediaDatagram bad = good;
        bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        if (cipher.open(bad.data(), bad.size()).has_value()) {
            test::fail(__FILE__, __LINE__, "bit " + std::to_string(bit) + " flipped and still authentic");
        }
    }
}

TEST(invalid_vectors_are_protocol_errors) {
    for (const auto& row : read_table("invalid.txt")) {
        auto bytes = from_hex(row.at(1));
        DecodeResult r = decode_frame(bytes.data(), bytes.size());
        if (r.status != DecodeStatus::kError) {
            test::fail(__FILE__, __LINE__, "not rejected: " + row.at(0));
        }
        CHECK(!r.error.empty());
        // Through the stream reader too, fed byte by byte: the error must surface, no crash.
        FrameReader reader;
        bool rejected = false;
        for (uint8_t b : bytes) {
            reader.append(&b, 1);
            DecodeResult s = reader.next();
            CHECK(s.status != DecodeStatus::kFrame);
            if (s.status == DecodeStatus::kError) {
                rejected = true;
                break;
            }
        }
        if (!rejected) {
            test::fail(__FILE__, __LINE__, "stream did not reject: " + row.at(0));
        }
    }
}

TEST(bad_version_is_flagged_for_the_error_reply) {
    auto bytes = from_hex("0000000a020a0000000000000003");
    DecodeResult r = decode_frame(bytes.data(), bytes.size());
    CHECK(r.status == DecodeStatus::kError);
    CHECK(r.bad_version);
    CHECK_EQ(r.error, std::string("unsupported version"));
}

TEST(reassembles_frames_fed_one_byte_at_a_time) {
    std::vector<uint8_t> stream;
    std::vector<Fields> expected;
    for (const auto& v : valid_vectors()) {
        if (is_media(v.name)) continue;
        stream.insert(stream.end(), v.bytes.begin(), v.bytes.end());
        expected.push_back(v.fields);
    }
    FrameReader reader;
    std::vector<Fields> got;
    for (uint8_t b : stream) {
        reader.append(&b, 1);
        for (;;) {
            DecodeResult r = reader.next();
            REQUIRE(r.status != DecodeStatus::kError);
            if (r.status == DecodeStatus::kNeedMore) break;
            got.push_back(fields_of(r.message));
        }
    }
    REQUIRE_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
        CHECK_EQ(describe(got[i]), describe(expected[i]));
    }
    CHECK_EQ(reader.buffered(), size_t{0});
}

TEST(reassembles_many_frames_in_one_chunk) {
    std::vector<uint8_t> stream;
    for (uint64_t i = 0; i < 100; ++i) {
        REQUIRE(encode_frame(Ping{i}, stream));
    }
    FrameReader reader;
    reader.append(stream.data(), stream.size() - 3);  // last frame incomplete
    uint64_t n = 0;
    for (DecodeResult r = reader.next(); r.status == DecodeStatus::kFrame; r = reader.next()) {
        CHECK_EQ(std::get<Ping>(r.message).nonce, n);
        ++n;
    }
    CHECK_EQ(n, uint64_t{99});
    reader.append(stream.data() + stream.size() - 3, 3);
    DecodeResult last = reader.next();
    REQUIRE(last.status == DecodeStatus::kFrame);
    CHECK_EQ(std::get<Ping>(last.message).nonce, uint64_t{99});
}

TEST(frame_length_limits) {
    // len = MAX_FRAME is a legal length: the reader waits for the body instead of rejecting.
    std::vector<uint8_t> header = {0x00, 0x01, 0x00, 0x00, 0x01, 0x03};
    CHECK(decode_frame(header.data(), header.size()).status == DecodeStatus::kNeedMore);
    // ...and once complete it is judged on its fields (here: trailing bytes), not its size.
    std::vector<uint8_t> full = header;
    full.resize(4 + 65536, 0);
    DecodeResult r = decode_frame(full.data(), full.size());
    CHECK(r.status == DecodeStatus::kError);
    // len = MAX_FRAME + 1 is rejected from the four header bytes alone.
    std::vector<uint8_t> too_big = {0x00, 0x01, 0x00, 0x01};
    CHECK(decode_frame(too_big.data(), too_big.size()).status == DecodeStatus::kError);
    std::vector<uint8_t> partial = {0x00, 0x00, 0x00};
    CHECK(decode_frame(partial.data(), partial.size()).status == DecodeStatus::kNeedMore);
}

TEST(string_field_limits) {
    std::vector<uint8_t> out;
    Join join{"k", "c", 1, std::string(1024, 't'), 1};
    REQUIRE(encode_frame(join, out));
    DecodeResult ok = decode_frame(out.data(), out.size());
    CHECK(ok.status == DecodeStatus::kFrame);

    std::vector<uint8_t> none;
    join.token = std::string(1025, 't');
    CHECK(!encode_frame(join, none));
    CHECK(none.empty());
    join.token = "";
    join.channel = std::string(65, 'c');
    CHECK(!encode_frame(join, none));
    join.channel = "\xc3\x28";
    CHECK(!encode_frame(join, none));
    CHECK(!encode_frame(JoinErr{1, std::string(513, 'm')}, none));
    CHECK(!encode_frame(JoinOk{1, 1, {}, "", 1, 1}, none));

    // A 1025-byte token built by hand is rejected by the decoder.
    std::vector<uint8_t> frame;
    REQUIRE(encode_frame(Join{"k", "c", 1, std::string(1024, 't'), 1}, frame));
    size_t token_len_at = 4 + 2 + 3 + 3 + 8;
    frame[token_len_at] = 0x04;
    frame[token_len_at + 1] = 0x01;
    frame.insert(frame.begin() + static_cast<long>(token_len_at + 2), 't');
    uint32_t len = static_cast<uint32_t>(frame.size() - 4);
    frame[2] = static_cast<uint8_t>(len >> 8);
    frame[3] = static_cast<uint8_t>(len);
    DecodeResult bad = decode_frame(frame.data(), frame.size());
    CHECK(bad.status == DecodeStatus::kError);
}

TEST(resume_ok_flag_must_be_boolean) {
    std::vector<uint8_t> frame;
    REQUIRE(encode_frame(ResumeOk{7, 1, 2, {}, "::1", 5000, 0}, frame));
    frame[4 + 2 + 8] = 2;
    CHECK(decode_frame(frame.data(), frame.size()).status == DecodeStatus::kError);
}

TEST(media_datagrams_are_validated) {
    MediaDatagram good{};
    encode_media_layout(MediaPacket{MediaType::kPong, 5, 8, 6, 7}, good);
    auto header = decode_media_header(good.data(), good.size());
    REQUIRE(header.has_value());
    CHECK_EQ(header->media_key, uint64_t{5});
    CHECK_EQ(header->counter, uint64_t{8});
    CHECK(!decode_media_header(good.data(), good.size() - 1).has_value());
    std::vector<uint8_t> longer(good.begin(), good.end());
    longer.push_back(0);
    CHECK(!decode_media_header(longer.data(), longer.size()).has_value());
    auto bad_magic = good;
    bad_magic[0] = 0x00;
    CHECK(!decode_media_header(bad_magic.data(), bad_magic.size()).has_value());
    auto bad_version = good;
    bad_version[2] = 1;  // the unauthenticated v1 layout is gone
    CHECK(!decode_media_header(bad_version.data(), bad_version.size()).has_value());
    auto bad_type = good;
    bad_type[3] = 5;
    CHECK(!decode_media_header(bad_type.data(), bad_type.size()).has_value());
    bad_type[3] = 0;
    CHECK(!decode_media_header(bad_type.data(), bad_type.size()).has_value());
}

TEST(utf8_validation) {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("\xe6\x88\xbf\xe9\x97\xb4"));       // 房间
    CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));               // U+1F600
    CHECK(!is_valid_utf8("\xc3\x28"));                      // bad continuation
    CHECK(!is_valid_utf8("\xc0\xaf"));                      // overlong '/'
    CHECK(!is_valid_utf8("\xe0\x80\xaf"));                  // overlong 3-byte
    CHECK(!is_valid_utf8("\xed\xa0\x80"));                  // UTF-16 surrogate
    CHECK(!is_valid_utf8("\xf4\x90\x80\x80"));              // beyond U+10FFFF
    CHECK(!is_valid_utf8("\xe6\x88"));                      // truncated
    CHECK(!is_valid_utf8(std::string("\xff", 1)));
}

TEST(reserved_types_are_unknown) {
    for (uint8_t type : {uint8_t{0x11}, uint8_t{0x12}, uint8_t{0x17}}) {
        const uint8_t frame[] = {0, 0, 0, 10, 1, type, 0, 0, 0, 0, 0, 0, 0, 1};
        DecodeResult r = decode_frame(frame, sizeof frame);
        CHECK(r.status == DecodeStatus::kError);
    }
    CHECK_EQ(std::string(type_name(0x11)), std::string("UNKNOWN"));
    CHECK_EQ(std::string(type_name(0x13)), std::string("MESSAGE"));
    CHECK_EQ(std::string(type_name(0x16)), std::string("STREAM_ACK"));
    CHECK_EQ(int{type_code(MessageFrame{})}, 0x13);
    CHECK_EQ(int{type_code(StreamAck{})}, 0x16);
    CHECK_EQ(int{type_code(RenewTokenResult{})}, 0x10);
}

TEST(message_fields_are_checked_when_encoding) {
    std::vector<uint8_t> frame;
    CHECK(!encode_frame(MessageFrame{1, 0, 0, {}}, frame));
    CHECK(!encode_frame(MessageFrame{1, 2, 0, {1}}, frame));
    CHECK(!encode_frame(MessageFrame{1, 0, 5, {1}}, frame));
    CHECK(!encode_frame(MessageFrame{1, 0, 0, std::vector<uint8_t>(kMaxMessageData + 1)}, frame));
    CHECK(!encode_frame(RoomMessage{1, 0, {}}, frame));
    CHECK(!encode_frame(RoomMessage{1, 3, {1}}, frame));
    CHECK(frame.empty());
    CHECK(encode_frame(MessageFrame{1, 1, 0, std::vector<uint8_t>(kMaxMessageData)}, frame));
    DecodeResult r = decode_frame(frame.data(), frame.size());
    REQUIRE(r.status == DecodeStatus::kFrame);
    CHECK_EQ(std::get<MessageFrame>(r.message).data.size(), kMaxMessageData);
}

TEST_MAIN()
