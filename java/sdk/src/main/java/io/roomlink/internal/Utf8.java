package io.roomlink.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;

/** NUL-terminated UTF-8 for the C ABI. */
public final class Utf8 {
    private Utf8() {
    }

    public static byte[] cString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, out, 0, utf8.length);
        return out;
    }

    /** Native memory holding the string; it lives as long as the returned object is reachable. */
    public static Memory cMemory(String s) {
        byte[] bytes = cString(s);
        Memory memory = new Memory(bytes.length);
        memory.write(0, bytes, 0, bytes.length);
        return memory;
    }

    public static String fromC(Pointer p) {
        if (p == null) {
            return "";
        }
        return p.getString(0, StandardCharsets.UTF_8.name());
    }
}
