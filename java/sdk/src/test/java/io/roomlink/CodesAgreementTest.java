package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.internal.NativeApi;
import io.roomlink.server.ErrorCodes;
import io.roomlink.server.protocol.Message;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * The codes exist three times: in roomlink.h (the source), in the SDK and in the server. Each
 * copy must carry the header's names and values.
 */
class CodesAgreementTest {
    /** SDK names that differ from the header's, kept for compatibility. */
    private static final Map<String, String> SDK_ALIASES = Map.of("PROTOCOL_ERROR", "PROTOCOL");

    @Test
    void sdkErrorCodesAreExactlyTheHeaders() {
        Map<String, Integer> header = errorCodes();
        Map<String, Integer> sdk = new TreeMap<>();
        intConstants(ErrorCode.class, "").forEach((name, value) -> sdk.put(SDK_ALIASES.getOrDefault(name, name), value));
        assertEquals(new TreeMap<>(header), sdk);
    }

    @Test
    void everyServerErrorCodeIsTheHeadersOfTheSameName() {
        Map<String, Integer> header = errorCodes();
        intConstants(ErrorCodes.class, "").forEach((name, value) ->
                assertEquals(header.get(name), value, "server ErrorCodes." + name + " against RL_ERR_" + name));
    }

    @Test
    void statesAndReasonsAreTheHeaders() {
        assertEquals(NativeHeader.enumConstants("rl_state", "RL_STATE_"),
                enumCodes(ConnectionState.values(), ConnectionState::code));
        assertEquals(NativeHeader.enumConstants("rl_reason", "RL_REASON_"),
                enumCodes(ConnectionStateChangeReason.values(), ConnectionStateChangeReason::code));
        Map<String, Integer> leaveReasons = NativeHeader.enumConstants("rl_user_leave_reason", "RL_USER_LEAVE_");
        assertEquals(leaveReasons, enumCodes(UserLeaveReason.values(), UserLeaveReason::code));
        assertEquals(new TreeMap<>(leaveReasons), intConstants(Message.PeerLeft.class, "REASON_"),
                "the server's PEER_LEFT reasons");
    }

    @Test
    void connectionTypesAreTheHeaders() {
        // UNKNOWN is a real code here (0), not the SDK's stand-in for codes it does not know.
        Map<String, Integer> sdk = new TreeMap<>(enumCodes(ConnectionType.values(), ConnectionType::code));
        sdk.put(ConnectionType.UNKNOWN.name(), ConnectionType.UNKNOWN.code());
        assertEquals(new TreeMap<>(NativeHeader.enumConstants("rl_connection_type", "RL_CONNECTION_TYPE_")), sdk);
    }

    @Test
    void nativeApiEventTypesAndLogLevelsAreTheHeaders() {
        assertEquals(new TreeMap<>(NativeHeader.enumConstants("rl_event_type", "RL_EVENT_")),
                intConstants(NativeApi.class, "EVENT_"));
        assertEquals(new TreeMap<>(NativeHeader.enumConstants("rl_log_level", "RL_LOG_")),
                intConstants(NativeApi.class, "LOG_"));
    }

    /** RL_OK is OK; RL_ERR_X is X. */
    private static Map<String, Integer> errorCodes() {
        Map<String, Integer> codes = new TreeMap<>();
        NativeHeader.enumConstants("rl_error", "RL_").forEach((name, value) ->
                codes.put(name.startsWith("ERR_") ? name.substring(4) : name, value));
        return codes;
    }

    /** Public static int constants whose name starts with prefix, prefix cut off. */
    private static Map<String, Integer> intConstants(Class<?> type, String prefix) {
        Map<String, Integer> constants = new TreeMap<>();
        for (Field field : type.getDeclaredFields()) {
            int mod = field.getModifiers();
            if (field.getType() == int.class && Modifier.isStatic(mod) && Modifier.isPublic(mod)
                    && field.getName().startsWith(prefix)) {
                try {
                    constants.put(field.getName().substring(prefix.length()), field.getInt(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return constants;
    }

    /** The enum's constants in declaration order, without UNKNOWN (the SDK's own catch-all). */
    private static <E extends Enum<E>> Map<String, Integer> enumCodes(E[] values, ToIntFunction<E> code) {
        Map<String, Integer> codes = new java.util.LinkedHashMap<>();
        Arrays.stream(values).filter(v -> !v.name().equals("UNKNOWN")).forEach(v -> codes.put(v.name(), code.applyAsInt(v)));
        return codes;
    }
}
