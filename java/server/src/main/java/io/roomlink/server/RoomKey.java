package io.roomlink.server;

import java.util.Objects;

/** Identity of a channel: rooms are keyed by (appKey, channelName). */
record RoomKey(String appKey, String channel) {
    RoomKey {
        Objects.requireNonNull(appKey, "appKey");
        Objects.requireNonNull(channel, "channel");
    }
}
