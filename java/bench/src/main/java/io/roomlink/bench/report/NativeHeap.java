package io.roomlink.bench.report;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bytes the process holds from glibc's malloc, over every arena (the native loop threads allocate
 * from arenas of their own, which mallinfo2 does not see): glibc's malloc_info totals, the memory
 * obtained from the system less the free chunks, plus the mmapped blocks. The native core's memory
 * apart from the JVM heap, which dominates the RSS of a JVM that allocates fast. Linux, glibc.
 */
public final class NativeHeap {
    private interface LibC extends Library {
        Pointer open_memstream(PointerByReference buffer, LongByReference size);

        int malloc_info(int options, Pointer stream);

        int fclose(Pointer stream);

        void free(Pointer p);
    }

    private static final LibC LIBC = Native.load("c", LibC.class);
    private static final Pattern TOTAL = Pattern.compile("<total type=\"(fast|rest|mmap)\" count=\"\\d+\" size=\"(\\d+)\"/>");
    private static final Pattern SYSTEM = Pattern.compile("<system type=\"current\" size=\"(\\d+)\"/>");

    private NativeHeap() {
    }

    /** malloc'd bytes in use right now, all arenas. */
    public static long inUse() {
        PointerByReference buffer = new PointerByReference();
        LongByReference size = new LongByReference();
        Pointer stream = LIBC.open_memstream(buffer, size);
        LIBC.malloc_info(0, stream);
        LIBC.fclose(stream);
        Pointer text = buffer.getValue();
        String xml = new String(text.getByteArray(0, (int) size.getValue()), StandardCharsets.US_ASCII);
        LIBC.free(text);
        // The totals come last, after one <heap> element per arena.
        int totals = xml.lastIndexOf("</heap>");
        String tail = totals < 0 ? xml : xml.substring(totals);
        long free = 0;
        long mmapped = 0;
        Matcher t = TOTAL.matcher(tail);
        while (t.find()) {
            long bytes = Long.parseLong(t.group(2));
            if (t.group(1).equals("mmap")) {
                mmapped = bytes;
            } else {
                free += bytes;
            }
        }
        Matcher s = SYSTEM.matcher(tail);
        long system = s.find() ? Long.parseLong(s.group(1)) : 0;
        return system - free + mmapped;
    }
}
