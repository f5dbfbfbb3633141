//  Key files: loading, permission checks, generation.
#include "../../common/key.h"
#include "../../common/error.h"
#include "testing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static const char *s_path (const char *name)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    return path;
}

static const char *s_write (const char *name, const char *text, size_t len, mode_t mode)
{
    const char *path = s_path (name);
    unlink (path);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE (fd >= 0);
    ASSERT_EQ (write (fd, text, len), (ssize_t) len);
    ASSERT_EQ (fchmod (fd, mode), 0);
    close (fd);
    return path;
}

static void test_empty_path (void)
{
    mp_key_t key;
    memset (&key, 0xaa, sizeof key);
    char err[256] = "";
    ASSERT_EQ (mp_key_load (&key, NULL, err, sizeof err), 0);
    ASSERT_EQ (key.len, 0);
    memset (&key, 0xaa, sizeof key);
    ASSERT_EQ (mp_key_load (&key, "", err, sizeof err), 0);
    ASSERT_EQ (key.len, 0);
    ASSERT_EQ (key.bytes[0], 0);
}

static void test_good_key (void)
{
    mp_key_t key = { .len = 0 };
    char err[256] = "";
    const char *text = "0123456789abcdef-secret \t\r\n\n";
    const char *path = s_write ("good", text, strlen (text), 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), 0);
    ASSERT_EQ (key.len, strlen ("0123456789abcdef-secret"));
    ASSERT_TRUE (memcmp (key.bytes, "0123456789abcdef-secret", key.len) == 0);

    //  Exactly 16 bytes, with interior spaces and binary bytes kept; read-only is fine.
    path = s_write ("sixteen", "ab cd\tef\001\377890123\n", 17, 0400);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), 0);
    ASSERT_EQ (key.len, 16);
    ASSERT_TRUE (memcmp (key.bytes, "ab cd\tef\001\377890123", 16) == 0);

    char big[MP_KEY_MAX + 2];
    memset (big, 'k', sizeof big);
    path = s_write ("max", big, MP_KEY_MAX, 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), 0);
    ASSERT_EQ (key.len, MP_KEY_MAX);
}

static void test_bad_keys (void)
{
    mp_key_t key = { .len = 7 };
    char err[256] = "";
    const char *path = s_write ("short", "0123456789abcde\n\n", 17, 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), MP_EINVAL);
    ASSERT_TRUE (strstr (err, "15 bytes") != NULL);
    ASSERT_EQ (key.len, 7); //  untouched on failure

    path = s_write ("blank", " \n\t\n", 4, 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), MP_EINVAL);

    char big[MP_KEY_MAX + 1];
    memset (big, 'k', sizeof big);
    path = s_write ("toolong", big, sizeof big, 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), MP_EINVAL);
    ASSERT_TRUE (strstr (err, "257 bytes") != NULL);

    char huge[10000];
    memset (huge, 'k', sizeof huge);
    path = s_write ("huge", huge, sizeof huge, 0600);
    ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), MP_ETOOBIG);

    const mode_t modes[] = { 0640, 0604, 0660, 0620, 0601, 0644 };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        path = s_write ("open", "0123456789abcdef0123\n", 21, modes[i]);
        err[0] = 0;
        ASSERT_EQ (mp_key_load (&key, path, err, sizeof err), MP_EINVAL);
        ASSERT_TRUE (strstr (err, "group or others") != NULL);
    }

    ASSERT_EQ (mp_key_load (&key, s_path ("missing"), err, sizeof err), MP_EIO);
    ASSERT_TRUE (strstr (err, "cannot open") != NULL);
    ASSERT_EQ (mp_key_load (&key, s_path ("missing"), NULL, 0), MP_EIO); //  no reason buffer
    mkdir (s_path ("adir"), 0700);
    ASSERT_EQ (mp_key_load (&key, s_path ("adir"), err, sizeof err), MP_EINVAL);
    rmdir (s_path ("adir"));
    ASSERT_EQ (key.len, 7);
}

static void test_generate (void)
{
    char err[256] = "";
    char path[128];
    snprintf (path, sizeof path, "%s", s_path ("generated"));
    ASSERT_EQ (mp_key_generate_file (path, err, sizeof err), 0);
    struct stat st;
    ASSERT_EQ (stat (path, &st), 0);
    ASSERT_EQ (st.st_mode & 0777, 0600);
    mp_key_t first, second;
    ASSERT_EQ (mp_key_load (&first, path, err, sizeof err), 0);
    ASSERT_EQ (first.len, 64);
    for (size_t i = 0; i < first.len; i++)
        ASSERT_TRUE (strchr ("0123456789abcdef", first.bytes[i]) != NULL);

    //  Overwriting a too-open file narrows its mode.
    chmod (path, 0644);
    ASSERT_EQ (mp_key_generate_file (path, err, sizeof err), 0);
    ASSERT_EQ (stat (path, &st), 0);
    ASSERT_EQ (st.st_mode & 0777, 0600);
    ASSERT_EQ (mp_key_load (&second, path, err, sizeof err), 0);
    ASSERT_EQ (second.len, 64);
    ASSERT_TRUE (memcmp (first.bytes, second.bytes, 64) != 0);

    ASSERT_EQ (mp_key_generate_file (s_path ("no/such/dir"), err, sizeof err), MP_EIO);
    ASSERT_TRUE (strstr (err, "cannot create") != NULL);
    ASSERT_EQ (mp_key_generate_file ("", err, sizeof err), MP_EINVAL);
    unlink (path);
}

static const mp_test_t tests[] = {
    MP_TEST (test_empty_path),
    MP_TEST (test_good_key),
    MP_TEST (test_bad_keys),
    MP_TEST (test_generate),
    { NULL, NULL },
};

int main (int argc, char **argv)
{
    //  One directory for all the tests; the children inherit its name.
    snprintf (s_dir, sizeof s_dir, "/tmp/mp-test-key-XXXXXX");
    ASSERT_NOT_NULL (mkdtemp (s_dir));
    int rc = mp_test_main (tests, argc, argv);
    const char *names[] = { "good", "sixteen", "max", "short", "blank", "toolong", "huge",
                            "open" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink (s_path (names[i]));
    //  A failed test may have left a file the list misses; its report is the one to see.
    if (rc == 0)
        ASSERT_EQ (rmdir (s_dir), 0);
    else
        rmdir (s_dir);
    return rc;
}
