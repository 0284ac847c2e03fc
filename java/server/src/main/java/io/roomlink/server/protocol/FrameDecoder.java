package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Netty adapter of {@link WireCodec#decode(ByteBuf)}: emits one {@link Message} per frame.
 *
 * <p>On a protocol violation it throws {@link ProtocolException} (Netty delivers it to
 * {@code exceptionCaught} wrapped in a {@code DecoderException}) and from then on discards every
 * inbound byte: the connection is beyond repair and the next handler is expected to close it.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws ProtocolException {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        Message m;
        try {
            m = WireCodec.decode(in);
        } catch (ProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
        if (m != null) {
            out.add(m);
        }
    }

    /** True once a protocol violation was seen on this connection. */
    public boolean failed() {
        return failed;
    }
}
