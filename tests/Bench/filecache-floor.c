/* The kernel's floor for Get-FileCache: the same calls per file as the module's core (statx,
 * open, statx, fstatfs, cachestat, close), in C. Reads the file list from stdin, prints the
 * total cached pages. Built and run by FileCache.Bench.ps1 when gcc is there. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

struct range { unsigned long long off, len; };
struct counts { unsigned long long cache, dirty, writeback, evicted, recently_evicted; };

int main(void)
{
    char name[4096];
    unsigned long long cached = 0;
    while (fgets(name, sizeof name, stdin)) {
        name[strcspn(name, "\n")] = 0;
        struct statx sx;
        if (statx(AT_FDCWD, name, 0, STATX_BASIC_STATS, &sx) || !S_ISREG(sx.stx_mode))
            continue;
        int fd = open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct statfs sf;
        statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
        fstatfs(fd, &sf);
        struct range r = { 0, 0 };
        struct counts c = { 0 };
        if (syscall(451, fd, &r, &c, 0) == 0)
            cached += c.cache;
        close(fd);
    }
    printf("%llu\n", cached);
    return 0;
}
