package io.roomlink.server;

import java.util.concurrent.atomic.LongAdder;

/** Counters of a running server (monotonic since start; thread-safe). */
public final class ServerStats {
    final LongAdder joins = new LongAdder();
    final LongAdder resumes = new LongAdder();
    final LongAdder joinRejects = new LongAdder();
    final LongAdder protocolErrors = new LongAdder();
    final LongAdder graceExpiries = new LongAdder();
    final LongAdder idleDisconnects = new LongAdder();
    final LongAdder malformedDatagrams = new LongAdder();
    final LongAdder unboundDatagrams = new LongAdder();
    final LongAdder pendingBinds = new LongAdder();
    final LongAdder droppedPendingBinds = new LongAdder();
    // authenticated media (v2)
    final LongAdder unauthenticatedDatagrams = new LongAdder();
    final LongAdder replayedDatagrams = new LongAdder();
    final LongAdder mediaKeyConflicts = new LongAdder();
    final LongAdder pendingBindEvictions = new LongAdder();
    final LongAdder pendingBindSourceRefusals = new LongAdder();
    // credentials
    final LongAdder tokenLifetimeRejects = new LongAdder();
    final LongAdder sameUidRejects = new LongAdder();
    final LongAdder tokenRenewals = new LongAdder();
    final LongAdder tokenRenewalRejects = new LongAdder();
    final LongAdder tokenExpiries = new LongAdder();
    // Server limits (see RoomServer.Builder)
    final LongAdder connectionsRejected = new LongAdder();
    final LongAdder connectionsRejectedPerIp = new LongAdder();
    final LongAdder acceptErrors = new LongAdder();
    final LongAdder handshakeTimeouts = new LongAdder();
    final LongAdder preAuthViolations = new LongAdder();
    final LongAdder writePauses = new LongAdder();
    final LongAdder slowConsumerDisconnects = new LongAdder();
    final LongAdder channelFullRejects = new LongAdder();
    final LongAdder channelLimitRejects = new LongAdder();
    final LongAdder joinRateRejects = new LongAdder();
    final LongAdder connectionRateRejects = new LongAdder();
    final LongAdder tokenRenewalRateRejects = new LongAdder();
    final LongAdder preAuthEvictions = new LongAdder();
    // room messages (issue 12)
    final LongAdder messagesAccepted = new LongAdder();
    final LongAdder messageDeliveries = new LongAdder();
    final LongAdder duplicateMessages = new LongAdder();
    final LongAdder messagesToAbsentUid = new LongAdder();
    final LongAdder messageRateRejects = new LongAdder();
    final LongAdder replayOverflows = new LongAdder();
    // TLS
    final LongAdder tlsHandshakes = new LongAdder();
    final LongAdder tlsResumedHandshakes = new LongAdder();

    /** TLS handshakes completed on the signaling port (full and resumed). */
    public long tlsHandshakes() {
        return tlsHandshakes.sum();
    }

    /**
     * TLS handshakes that resumed a session from a ticket (no certificate, no signature). Counted
     * with the BoringSSL provider only: the JDK's SSLEngine does not tell.
     */
    public long tlsResumedHandshakes() {
        return tlsResumedHandshakes.sum();
    }

    /** Successful JOINs (including those re-admitted through RESUME after grace). */
    public long joins() {
        return joins.sum();
    }

    /** RESUMEs that continued an existing session ({@code resumed=1}). */
    public long resumes() {
        return resumes.sum();
    }

    /** JOIN/RESUME answered with JOIN_ERR. */
    public long joinRejects() {
        return joinRejects.sum();
    }

    /** Connections closed with ERROR(31006). */
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    /** Sessions removed because their grace period ran out (PEER_LEFT TIMEOUT). */
    public long graceExpiries() {
        return graceExpiries.sum();
    }

    /** Signaling connections closed because nothing was heard for the idle timeout. */
    public long idleDisconnects() {
        return idleDisconnects.sum();
    }

    /** Media datagrams dropped for wrong size, magic, version or type. */
    public long malformedDatagrams() {
        return malformedDatagrams.sum();
    }

    /** Well-formed media datagrams dropped: PING from an unbound address or unknown key, S→C types. */
    public long unboundDatagrams() {
        return unboundDatagrams.sum();
    }

    /** BINDs kept pending because their mediaKey was not known yet. */
    public long pendingBinds() {
        return pendingBinds.sum();
    }

    /** Pending BINDs dropped: expired after 2 s, evicted from a full store, or failing authentication once their key was known. */
    public long droppedPendingBinds() {
        return droppedPendingBinds.sum();
    }

    /** Well-formed datagrams whose GCM tag did not verify under their mediaKey's keys (forged, corrupted). */
    public long unauthenticatedDatagrams() {
        return unauthenticatedDatagrams.sum();
    }

    /** Authentic datagrams dropped by the replay window (already seen, or older than 128 counters). */
    public long replayedDatagrams() {
        return replayedDatagrams.sum();
    }

    /** JOINs/RESUMEs naming a mediaKey another live session holds (the key stays with its holder). */
    public long mediaKeyConflicts() {
        return mediaKeyConflicts.sum();
    }

    /** Pending BINDs evicted, oldest first, to make room in a full store ({@code maxPendingBinds}). */
    public long pendingBindEvictions() {
        return pendingBindEvictions.sum();
    }

    /** BINDs not kept because their source address had {@code maxPendingBindsPerSource} pending already. */
    public long pendingBindSourceRefusals() {
        return pendingBindSourceRefusals.sum();
    }

    /** JOINs refused because the token's expiry lay beyond now + maxTokenLifetime (also in joinRejects). */
    public long tokenLifetimeRejects() {
        return tokenLifetimeRejects.sum();
    }

    /** JOINs refused by SameUidPolicy.REJECT_NEWCOMER (also in joinRejects). */
    public long sameUidRejects() {
        return sameUidRejects.sum();
    }

    /** RENEW_TOKENs accepted. */
    public long tokenRenewals() {
        return tokenRenewals.sum();
    }

    /** RENEW_TOKENs refused (bad, expired or foreign token); the session kept its old expiry. */
    public long tokenRenewalRejects() {
        return tokenRenewalRejects.sum();
    }

    /** Sessions ended with SESSION_END(31020) because their token expired (enforceTokenExpiry). */
    public long tokenExpiries() {
        return tokenExpiries.sum();
    }

    /** Connections closed at once because the server held {@code maxConnections} already. */
    public long connectionsRejected() {
        return connectionsRejected.sum();
    }

    /** Connections closed at once because their address held {@code maxConnectionsPerIp} already. */
    public long connectionsRejectedPerIp() {
        return connectionsRejectedPerIp.sum();
    }

    /**
     * Failed accepts (EMFILE/ENFILE and the like): each pauses accepting for a short, growing delay
     * (10 ms doubling up to 1 s, back to 10 ms after the next accept) instead of spinning or dying.
     */
    public long acceptErrors() {
        return acceptErrors.sum();
    }

    /** Connections closed because no JOIN/RESUME arrived within {@code handshakeTimeout}. */
    public long handshakeTimeouts() {
        return handshakeTimeouts.sum();
    }

    /**
     * Unauthenticated connections closed with ERROR(31006) for breaking a pre-auth limit: a first
     * frame longer than a JOIN/RESUME can be, or more than {@code maxPreAuthPings} PINGs.
     */
    public long preAuthViolations() {
        return preAuthViolations.sum();
    }

    /** Times a connection stopped being read from because its client did not read its output. */
    public long writePauses() {
        return writePauses.sum();
    }

    /** Connections closed because more than {@code maxPendingWriteBytes} waited to be written to them. */
    public long slowConsumerDisconnects() {
        return slowConsumerDisconnects.sum();
    }

    /** JOINs refused with JOIN_ERR(31022) because the channel held {@code maxMembersPerChannel}. */
    public long channelFullRejects() {
        return channelFullRejects.sum();
    }

    /** JOINs refused with JOIN_ERR(31022) because the server held {@code maxChannels} channels. */
    public long channelLimitRejects() {
        return channelLimitRejects.sum();
    }

    /** JOIN/RESUMEs refused with JOIN_ERR(31022) because their address exceeded {@code joinRatePerIp}. */
    public long joinRateRejects() {
        return joinRateRejects.sum();
    }

    /**
     * Connections closed at accept, before any TLS or handler work, because their address opened
     * more than {@code connectionRatePerIp} allows.
     */
    public long connectionRateRejects() {
        return connectionRateRejects.sum();
    }

    /**
     * RENEW_TOKENs answered with RENEW_TOKEN_RESULT(31022) unchecked, because their address made
     * more token checks (JOIN, RESUME, RENEW_TOKEN) than {@code joinRatePerIp} allows.
     */
    public long tokenRenewalRateRejects() {
        return tokenRenewalRateRejects.sum();
    }

    /**
     * Connections closed before they authenticated to make room for a newer one: the connection
     * cap was reached, or accepting failed for want of file descriptors.
     */
    public long preAuthEvictions() {
        return preAuthEvictions.sum();
    }

    /** MESSAGEs taken (appended to every addressee's stream, or dropped for an absent toUid). */
    public long messagesAccepted() {
        return messagesAccepted.sum();
    }

    /** ROOM_MESSAGE items appended to receiver streams (one per addressee of each message). */
    public long messageDeliveries() {
        return messageDeliveries.sum();
    }

    /** MESSAGEs with a seq already accepted (retransmissions): dropped and acknowledged again. */
    public long duplicateMessages() {
        return duplicateMessages.sum();
    }

    /** Directed MESSAGEs whose toUid had no other session in the channel: dropped, acknowledged. */
    public long messagesToAbsentUid() {
        return messagesToAbsentUid.sum();
    }

    /** Connections closed with ERROR(31022, "message rate") for sending MESSAGE data too fast. */
    public long messageRateRejects() {
        return messageRateRejects.sum();
    }

    /** Sessions ended because their replay buffer would overflow. */
    public long replayOverflows() {
        return replayOverflows.sum();
    }

    @Override
    public String toString() {
        return "ServerStats[joins=" + joins() + ", resumes=" + resumes() + ", joinRejects=" + joinRejects()
                + ", protocolErrors=" + protocolErrors() + ", graceExpiries=" + graceExpiries()
                + ", idleDisconnects=" + idleDisconnects() + ", malformedDatagrams=" + malformedDatagrams()
                + ", unboundDatagrams=" + unboundDatagrams() + ", pendingBinds=" + pendingBinds()
                + ", droppedPendingBinds=" + droppedPendingBinds()
                + ", unauthenticatedDatagrams=" + unauthenticatedDatagrams() + ", replayedDatagrams=" + replayedDatagrams()
                + ", mediaKeyConflicts=" + mediaKeyConflicts() + ", pendingBindEvictions=" + pendingBindEvictions()
                + ", pendingBindSourceRefusals=" + pendingBindSourceRefusals() + ", tokenLifetimeRejects=" + tokenLifetimeRejects()
                + ", sameUidRejects=" + sameUidRejects() + ", tokenRenewals=" + tokenRenewals()
                + ", tokenRenewalRejects=" + tokenRenewalRejects() + ", tokenExpiries=" + tokenExpiries()
                + ", connectionsRejected=" + connectionsRejected()
                + ", connectionsRejectedPerIp=" + connectionsRejectedPerIp() + ", acceptErrors=" + acceptErrors()
                + ", handshakeTimeouts=" + handshakeTimeouts() + ", preAuthViolations=" + preAuthViolations()
                + ", writePauses=" + writePauses() + ", slowConsumerDisconnects=" + slowConsumerDisconnects()
                + ", channelFullRejects=" + channelFullRejects() + ", channelLimitRejects=" + channelLimitRejects()
                + ", joinRateRejects=" + joinRateRejects() + ", connectionRateRejects=" + connectionRateRejects()
                + ", tokenRenewalRateRejects=" + tokenRenewalRateRejects() + ", preAuthEvictions=" + preAuthEvictions()
                + ", messagesAccepted=" + messagesAccepted() + ", messageDeliveries=" + messageDeliveries()
                + ", duplicateMessages=" + duplicateMessages() + ", messagesToAbsentUid=" + messagesToAbsentUid()
                + ", messageRateRejects=" + messageRateRejects() + ", replayOverflows=" + replayOverflows() + "]";
    }
}
