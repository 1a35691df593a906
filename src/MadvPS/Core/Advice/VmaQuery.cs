using System;
using System.Collections.Generic;
using System.Globalization;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// The live VMAs around a few ranges through PROCMAP_QUERY (an ioctl on /proc/PID/maps, Linux
/// 6.11): one call a VMA, instead of the kernel printing every VMA of the process. Null on older
/// kernels (ENOTTY or EINVAL), where the caller reads maps instead.
/// </summary>
internal static class VmaQuery
{
    /// <summary>At most this many ranges are checked by query; more read maps once.</summary>
    public const int MaxRanges = 64;

    private static bool s_unsupported;

    public static List<LiveVma>? TryRead(ProcessStat process, IEnumerable<PlannedRange> ranges)
    {
        if (s_unsupported)
        {
            return null;
        }

        SafeFileHandle maps;
        try
        {
            using ProcDirectory directory = ProcDirectory.Open(process);
            maps = directory.OpenHandle("maps");
        }
        catch (Exception e) when (e is LinuxErrorException or ProcessAccessException)
        {
            return null; // The reader of maps gives the error in its own words.
        }

        using (maps)
        {
            var found = new SortedDictionary<ulong, LiveVma>();
            byte[] name = new byte[4096 + 1];
            foreach (PlannedRange range in ranges)
            {
                ulong end = range.Start + (ulong)range.Length;
                ulong at = range.Start;
                while (at < end)
                {
                    int errno = Libc.ProcmapQuery(maps, at, Libc.PROCMAP_QUERY_COVERING_OR_NEXT_VMA, name, out ProcmapQueryArgs vma).Errno;
                    if (errno == (int)Errno.ENAMETOOLONG)
                    {
                        name = new byte[name.Length * 16];
                        continue;
                    }

                    if (errno == (int)Errno.ENOENT)
                    {
                        break;
                    }

                    if (errno != 0)
                    {
                        if (errno is (int)Errno.ENOTTY or (int)Errno.EINVAL or (int)Errno.ENOSYS)
                        {
                            s_unsupported = true;
                        }

                        return null;
                    }

                    if (vma.VmaStart >= end)
                    {
                        break;
                    }

                    found[vma.VmaStart] = ToLive(vma, FileNameBytes.Decode(name.AsSpan(0, vma.NameLength)));
                    at = vma.VmaEnd;
                }
            }

            return new List<LiveVma>(found.Values);
        }
    }

    private static LiveVma ToLive(ProcmapQueryArgs vma, string name)
    {
        ulong f = vma.VmaFlags;
        string permissions = string.Concat(
            (f & Libc.PROCMAP_QUERY_VMA_READABLE) != 0 ? "r" : "-",
            (f & Libc.PROCMAP_QUERY_VMA_WRITABLE) != 0 ? "w" : "-",
            (f & Libc.PROCMAP_QUERY_VMA_EXECUTABLE) != 0 ? "x" : "-",
            (f & Libc.PROCMAP_QUERY_VMA_SHARED) != 0 ? "s" : "p");
        const string deleted = " (deleted)";
        string path = vma.Inode != 0 && name.EndsWith(deleted, StringComparison.Ordinal) ? name[..^deleted.Length] : name;
        string device = string.Create(CultureInfo.InvariantCulture, $"{vma.DevMajor:x2}:{vma.DevMinor:x2}");
        return new LiveVma(vma.VmaStart, vma.VmaEnd, permissions, vma.VmaOffset, device, vma.Inode, path);
    }
}
