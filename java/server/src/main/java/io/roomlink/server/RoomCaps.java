package io.roomlink.server;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The caps on room state: members per channel and channels per server. The channel count is
 * shared by all shards (each opens and closes its own channels, so it is an atomic).
 */
final class RoomCaps {
    final int maxMembersPerChannel;
    private final int maxChannels;
    private final AtomicInteger channels = new AtomicInteger();

    /** MESSAGE data bytes per second per session, sustained (the bucket holds two seconds' worth). */
    final int maxMessageBytesPerSecond;
    /** Encoded receiver-stream bytes a session keeps until acknowledged. */
    final int replayBufferBytes;

    RoomCaps(int maxMembersPerChannel, int maxChannels) {
        this(maxMembersPerChannel, maxChannels, ServerLimits.DEFAULTS.maxMessageBytesPerSecond(),
                ServerLimits.DEFAULTS.replayBufferBytes());
    }

    RoomCaps(int maxMembersPerChannel, int maxChannels, int maxMessageBytesPerSecond, int replayBufferBytes) {
        this.maxMessageBytesPerSecond = maxMessageBytesPerSecond;
        this.replayBufferBytes = replayBufferBytes;
        this.maxMembersPerChannel = maxMembersPerChannel;
        this.maxChannels = maxChannels;
    }

    /** Reserves a channel; false if the server holds {@code maxChannels} already. */
    boolean tryOpenChannel() {
        if (channels.incrementAndGet() > maxChannels) {
            channels.decrementAndGet();
            return false;
        }
        return true;
    }

    void channelClosed() {
        channels.decrementAndGet();
    }

    int channels() {
        return channels.get();
    }
}
