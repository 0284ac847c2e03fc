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
    // credentials
    final LongAdder tokenLifetimeRejects = new LongAdder();
    final LongAdder sameUidRejects = new LongAdder();
    final LongAdder tokenRenewals = new LongAdder();
    final LongAdder tokenRenewalRejects = new LongAdder();
    final LongAdder tokenExpiries = new LongAdder();

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

    /** Pending BINDs dropped (expired after 2 s or the pending table was full). */
    public long droppedPendingBinds() {
        return droppedPendingBinds.sum();
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

    @Override
    public String toString() {
        return "ServerStats[joins=" + joins() + ", resumes=" + resumes() + ", joinRejects=" + joinRejects()
                + ", protocolErrors=" + protocolErrors() + ", graceExpiries=" + graceExpiries()
                + ", idleDisconnects=" + idleDisconnects() + ", malformedDatagrams=" + malformedDatagrams()
                + ", unboundDatagrams=" + unboundDatagrams() + ", pendingBinds=" + pendingBinds()
                + ", droppedPendingBinds=" + droppedPendingBinds() + ", tokenLifetimeRejects=" + tokenLifetimeRejects()
                + ", sameUidRejects=" + sameUidRejects() + ", tokenRenewals=" + tokenRenewals()
                + ", tokenRenewalRejects=" + tokenRenewalRejects() + ", tokenExpiries=" + tokenExpiries() + "]";
    }
}
