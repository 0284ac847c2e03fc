package io.roomlink.server;

/**
 * What the server does with a JOIN for a uid that already has a live session in the channel
 * (see README, "Same uid"). Each choice trades one kind of token theft for another:
 * {@link #NEWEST_WINS} lets a stolen token kick the real user out (every time it is replayed);
 * {@link #REJECT_NEWCOMER} lets a thief who got in first keep the real user out until the
 * thief's session ends, and makes a user who reinstalls or switches devices wait for the old
 * session's grace period.
 */
public enum SameUidPolicy {
    /** The newcomer is admitted; the older session ends with SESSION_END(30209). The default. */
    NEWEST_WINS,
    /** The newcomer gets JOIN_ERR(31021); the live session carries on untouched. */
    REJECT_NEWCOMER
}
