package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The pom's version is the one source: the native core reports it, without its qualifier. */
class NativeVersionTest {
    @Test
    void nativeVersionIsTheProjectVersionWithoutQualifier() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = NativeVersionTest.class.getResourceAsStream("/roomlink-version.properties")) {
            assertNotNull(in, "roomlink-version.properties on the test class path");
            properties.load(in);
        }
        String projectVersion = properties.getProperty("version");
        String release = projectVersion.replaceFirst("-.*$", "");
        assertEquals(release, RoomEngine.nativeVersion(), "project version " + projectVersion);
    }
}
