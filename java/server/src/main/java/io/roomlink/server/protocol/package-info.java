/**
 * Wire protocol codecs (signaling v1, media v2), usable without a server: {@link io.roomlink.server.protocol.WireCodec}
 * (signaling frames), {@link io.roomlink.server.protocol.MediaCodec} (media datagrams, sealed with {@link io.roomlink.server.protocol.MediaKeys}), the
 * {@link io.roomlink.server.protocol.Message} records, and the Netty adapters
 * {@link io.roomlink.server.protocol.FrameDecoder} / {@link io.roomlink.server.protocol.FrameEncoder}.
 * Checked against docs/vectors by the tests.
 */
package io.roomlink.server.protocol;
