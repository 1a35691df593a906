using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace MadvPS.Core;

/// <summary>
/// The kernel's rules for the page cache of files: the one place they live, each with the kernel
/// version it holds from. Checked against Linux v6.19 sources and probed on 6.18 x86_64.
/// </summary>
internal static class FileCacheFacts
{
    /// <summary>cachestat(2) came with Linux 6.5; before, it answers ENOSYS.</summary>
    public static readonly Version CachestatSince = new(6, 5);

    /// <summary>
    /// The kernel shows a file's page cache only to a caller that owns the file, has CAP_FOWNER, or
    /// could open it for writing (inode_owner_or_capable || file_permission(MAY_WRITE)):
    /// <list type="bullet">
    /// <item>mincore(2) since Linux 5.0 (134fca9063ad, can_do_mincore): to anyone else it reports
    /// every page of a file mapping as resident, a lie, not an error.</item>
    /// <item>cachestat(2) since a 2025 change (docs/kernel-facts.md, "cachestat"): anyone else gets EPERM, checked
    /// after EBADF, EFAULT and EOPNOTSUPP.</item>
    /// </list>
    /// Verified on 6.18: as nobody, a root-owned 0644 file gives cachestat EPERM and mincore
    /// "all resident" while it has no page cached.
    /// </summary>
    public static readonly Version MincoreHidesSince = new(5, 0);

    /// <summary>hugetlbfs files are huge pages, not page cache: cachestat answers EOPNOTSUPP (6.5).</summary>
    public static bool IsHugetlbfs(long filesystemType) => filesystemType == FilesystemMagic.Hugetlbfs;

    /// <summary>
    /// The POSIX_FADV_* number the running architecture's kernel expects. s390x alone numbers
    /// DONTNEED 6 and NOREUSE 7 (include/uapi/linux/fadvise.h, under __s390x__); 6 to 8 are EINVAL
    /// elsewhere.
    /// </summary>
    public static int FadviseValue(FileAdvice advice, Architecture architecture) => (advice, architecture) switch
    {
        (FileAdvice.DontNeed, Architecture.S390x) => 6,
        (FileAdvice.NoReuse, Architecture.S390x) => 7,
        _ => (int)advice,
    };

    /// <summary>
    /// Whether the advice acts on the file's page cache, which every process shares. WillNeed
    /// (reads ahead) and DontNeed (drops clean pages) do. Normal, Random, Sequential and NoReuse
    /// set the readahead mode or FMODE_NOREUSE of one open file description (mm/fadvise.c
    /// generic_fadvise): through MadvPS's own descriptor, closed right after, they change nothing
    /// for anyone. NoReuse did nothing at all before Linux 6.3.
    /// </summary>
    public static bool ActsOnPageCache(FileAdvice advice) => advice is FileAdvice.WillNeed or FileAdvice.DontNeed;

    /// <summary>
    /// One WILLNEED reads at most max(bdi io_pages, file ra_pages) pages (force_page_cache_ra,
    /// mm/readahead.c) and drops the rest silently. Verified on 6.18: WillNeed on 64 MiB with
    /// read_ahead_kb 8192 brought 8 MiB in. So WillNeed goes in steps of the device's readahead
    /// window, read_ahead_kb of /sys/class/bdi/MAJ:MIN, or 128 KiB (VM_READAHEAD_PAGES) where the
    /// file's device has no bdi entry of its own or it says 0.
    /// </summary>
    public static long ReadaheadWindowBytes(uint deviceMajor, uint deviceMinor)
    {
        const long fallback = 128 * 1024;
        try
        {
            string text = File.ReadAllText($"/sys/class/bdi/{deviceMajor}:{deviceMinor}/read_ahead_kb");
            long kib = long.Parse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            return kib > 0 ? kib * 1024 : fallback;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return fallback;
        }
    }

    /// <summary>
    /// DontNeed (mm/fadvise.c): starts writeback of the range's dirty pages (WB_SYNC_NONE, no wait),
    /// then invalidates only the clean pages that are neither mapped, locked nor under writeback,
    /// and only whole pages: a partial first or last page is kept (kept too at the end of the file
    /// only when the range does not reach it). Verified on 6.18: 16 MiB all dirty, DontNeed → all
    /// 16 MiB still cached, now under writeback.
    /// </summary>
    public static (long First, long End) DontNeedWholePages(long offset, long endExclusive, long fileSize, long pageSize)
    {
        long first = (offset + pageSize - 1) / pageSize * pageSize;
        long end = endExclusive >= fileSize ? RoundUp(fileSize, pageSize) : endExclusive / pageSize * pageSize;
        return (first, Math.Max(first, end));
    }

    /// <summary>
    /// Filesystems without a backing device (tmpfs and other noop_backing_dev_info users) and DAX
    /// files ignore fadvise and return 0 (generic_fadvise).
    /// </summary>
    public static bool IgnoresFadvise(long filesystemType) => filesystemType == FilesystemMagic.Tmpfs;

    public static long RoundUp(long value, long pageSize) => (value + pageSize - 1) / pageSize * pageSize;
}
