package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Netty adapter of {@link WireCodec#encode(Message, ByteBuf)}. Pre-encoded {@link ByteBuf}s (for
 * example one fan-out frame duplicated to many members) pass through untouched.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToByteEncoder<Message> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    public FrameEncoder() {
        super(Message.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Message msg, ByteBuf out) {
        WireCodec.encode(msg, out);
    }
}
