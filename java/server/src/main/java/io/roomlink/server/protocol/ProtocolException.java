package io.roomlink.server.protocol;

/**
 * A violation of wire protocol v1 (docs/PROTOCOL.md): bad frame length, version, type,
 * truncated or trailing payload, field limits or invalid UTF-8. The message is the reason
 * the server sends back in {@code ERROR(31006, reason)}; it is short and never contains
 * client-supplied bytes.
 */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String reason) {
        super(reason, null, false, false); // no stack trace: raised on hostile input, must be cheap
    }

    /** The reason, suitable for {@code ERROR(31006, reason)}. */
    public String reason() {
        return getMessage();
    }
}
