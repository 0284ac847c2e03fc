package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The library the jar ships links OpenSSL statically: its dynamic dependencies are the C
 * runtime alone, so it loads on any glibc Linux without libssl installed. Read with binutils'
 * readelf, which every machine that builds the core has.
 */
@EnabledOnOs(OS.LINUX)
class NativeLinkageTest {
    private static final Set<String> ALLOWED = Set.of("libc.so.6", "libm.so.6", "libpthread.so.0",
            "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libdl.so.2");
    private static final Pattern NEEDED = Pattern.compile("\\(NEEDED\\)\\s+Shared library: \\[([^\\]]+)\\]");

    @Test
    void theShippedLibraryNeedsOnlyTheCRuntime() throws Exception {
        Path lib = shippedLibrary();
        Process p = new ProcessBuilder("readelf", "-d", lib.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "readelf -d " + lib + ":\n" + out);
        Set<String> needed = new TreeSet<>();
        Matcher m = NEEDED.matcher(out);
        while (m.find()) {
            needed.add(m.group(1));
        }
        assertTrue(needed.contains("libc.so.6"), "readelf found no NEEDED entries:\n" + out);
        Set<String> extra = new TreeSet<>(needed);
        extra.removeAll(ALLOWED);
        assertEquals(Set.of(), extra, lib + " needs " + needed + "; OpenSSL and libstdc++ must be linked statically");
        assertTrue(!out.contains("libssl") && !out.contains("libcrypto"), out);
    }

    private static Path shippedLibrary() throws IOException, URISyntaxException {
        String prefix = com.sun.jna.Platform.RESOURCE_PREFIX;
        URL url = NativeLinkageTest.class.getResource("/" + prefix + "/libroomlink.so");
        assertNotNull(url, "libroomlink.so under target/classes/" + prefix);
        return Path.of(url.toURI());
    }
}
