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

    RoomCaps(int maxMembersPerChannel, int maxChannels) {
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
