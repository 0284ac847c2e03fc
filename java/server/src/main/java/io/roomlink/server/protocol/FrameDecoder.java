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
    private boolean overLimit;
    private int maxFrame;

    /** A decoder that accepts frames up to {@link WireCodec#MAX_FRAME}. */
    public FrameDecoder() {
        this(WireCodec.MAX_FRAME);
    }

    /** A decoder that accepts frames up to {@code maxFrame} until {@link #maxFrame(int)} changes it. */
    public FrameDecoder(int maxFrame) {
        this.maxFrame = maxFrame;
    }

    /** Changes the longest frame accepted from now on (on the channel's event loop). */
    public void maxFrame(int maxFrame) {
        this.maxFrame = maxFrame;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws ProtocolException {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        Message m;
        try {
            m = WireCodec.decode(in, maxFrame);
        } catch (ProtocolException e) {
            failed = true;
            overLimit = maxFrame < WireCodec.MAX_FRAME && in.readableBytes() >= WireCodec.LENGTH_FIELD
                    && in.getUnsignedInt(in.readerIndex()) > maxFrame;
            in.skipBytes(in.readableBytes());
            throw e;
        }
        if (m != null) {
            out.add(m);
        }
    }

    /** True if the violation was a frame longer than the lowered limit of {@link #maxFrame(int)}. */
    public boolean overLimit() {
        return overLimit;
    }

    /** True once a protocol violation was seen on this connection. */
    public boolean failed() {
        return failed;
    }
}
