package io.roomlink;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One member's view in the message tests: a {@link RecordingListener} for states and presence,
 * plus what arrived from each sender, checked as it arrives. Messages are text
 * {@code "<from>:<seq>:<to>"} ({@code to} is {@code *} for a broadcast, padded with more {@code *} to any length), as {@link MessageSender}
 * writes them; they are not recorded as lines, so the state and presence lines stay assertable.
 */
class MessageLedger extends RecordingListener {
    private final long self;
    private final Set<Long> present = new HashSet<>();
    private final Map<Long, List<Long>> received = new HashMap<>();
    private final List<String> problems = new ArrayList<>();
    private long messages;

    MessageLedger(String name, long self) {
        super(name);
        this.self = self;
    }

    @Override
    public void onUserJoined(long uid) {
        synchronized (this) {
            present.add(uid);
        }
        super.onUserJoined(uid);
    }

    @Override
    public void onUserLeave(long uid, UserLeaveReason reason) {
        synchronized (this) {
            present.remove(uid);
        }
        super.onUserLeave(uid, reason);
    }

    @Override
    public void onMessage(long fromUid, byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        String[] parts = text.split(":");
        synchronized (this) {
            messages++;
            if (parts.length != 3 || Long.parseLong(parts[0]) != fromUid) {
                problems.add("malformed or misattributed message from " + fromUid + ": " + text);
            } else if (!parts[2].startsWith("*") && Long.parseLong(parts[2]) != self) {
                problems.add("a message for " + parts[2] + " reached " + self + ": " + text);
            } else if (!present.contains(fromUid)) {
                problems.add("message " + text + " while " + fromUid + " was not in the room for " + self);
            } else {
                received.computeIfAbsent(fromUid, k -> new ArrayList<>()).add(Long.parseLong(parts[1]));
            }
            notifyAll();
        }
    }

    synchronized List<String> problems() {
        return new ArrayList<>(problems);
    }

    synchronized long messageCount() {
        return messages;
    }

    /** The sequence numbers received from {@code sender}, in arrival order. */
    synchronized List<Long> from(long sender) {
        return new ArrayList<>(received.getOrDefault(sender, List.of()));
    }

    /** Waits until the last message received from {@code sender} is {@code seq}. */
    synchronized void awaitLast(long sender, long seq, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Long> got = received.getOrDefault(sender, List.of());
            if (!got.isEmpty() && got.get(got.size() - 1) >= seq) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(self + ": timed out waiting for message " + sender + ":" + seq + "; got "
                        + got.size() + " from " + sender + ", last " + (got.isEmpty() ? "none" : got.get(got.size() - 1))
                        + "; events " + events());
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /**
     * Compares what arrived from {@code sender} with what it sent to this member, in order:
     * every number at most once, in send order, and the missing ones (lost) as at most
     * {@code gapsAllowed} contiguous runs. Returns the description of every failure (empty: fine).
     */
    List<String> check(MessageSender sender, int gapsAllowed) {
        List<Long> owed = sender.sentTo(self);
        List<Long> got = from(sender.uid());
        List<String> failures = new ArrayList<>();
        int i = 0;
        int gaps = 0;
        long lost = 0;
        for (long seq : got) {
            int start = i;
            while (i < owed.size() && owed.get(i) != seq) {
                i++;
            }
            if (i == owed.size()) {
                failures.add(self + " got " + sender.uid() + ":" + seq + " out of order or twice (after "
                        + (start > 0 ? owed.get(start - 1) : "nothing") + ")");
                return failures;
            }
            if (i > start) {
                gaps++;
                lost += i - start;
            }
            i++;
        }
        if (i < owed.size()) {
            failures.add(self + " never got " + (owed.size() - i) + " messages of " + sender.uid() + " from "
                    + sender.uid() + ":" + owed.get(i));
        }
        if (gaps > gapsAllowed) {
            failures.add(self + " lost " + lost + " messages of " + sender.uid() + " in " + gaps + " gaps (allowed "
                    + gapsAllowed + ")");
        }
        return failures;
    }
}
