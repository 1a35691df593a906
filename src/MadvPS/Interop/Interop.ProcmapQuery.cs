using System;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>
/// struct procmap_query of include/uapi/linux/fs.h (Linux 6.11), declared here because Debian 12's
/// headers predate it: 104 bytes, u64 fields at 0..64, u32 at 72..84, u64 name and build-id
/// addresses at 88 and 96.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProcmapQuery
{
    public ulong Size;
    public ulong QueryFlags;
    public ulong QueryAddr;
    public ulong VmaStart;
    public ulong VmaEnd;
    public ulong VmaFlags;
    public ulong VmaPageSize;
    public ulong VmaOffset;
    public ulong Inode;
    public uint DevMajor;
    public uint DevMinor;
    public uint VmaNameSize;
    public uint BuildIdSize;
    public ulong VmaNameAddr;
    public ulong BuildIdAddr;
}

internal static partial class Libc
{
    // _IOWR('f', 17, struct procmap_query): dir 3 << 30 | size 104 << 16 | 'f' << 8 | 17.
    internal const ulong PROCMAP_QUERY = 0xC0686611;
    internal const ulong PROCMAP_QUERY_VMA_READABLE = 0x01, PROCMAP_QUERY_VMA_WRITABLE = 0x02,
        PROCMAP_QUERY_VMA_EXECUTABLE = 0x04, PROCMAP_QUERY_VMA_SHARED = 0x08, PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10;

    // ioctl(2) is variadic in glibc; one pointer argument is passed as a fixed one (see FixedArity).
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int ioctl_raw(SafeFileHandle fd, nuint request, void* argument);

    /// <summary>
    /// The VMA covering <paramref name="address"/> or the next one, through an open /proc/PID/maps.
    /// Returns 0, or the errno: ENOENT when there is none, ENOTTY or EINVAL on kernels before 6.11.
    /// </summary>
    internal static unsafe int QueryVma(SafeFileHandle maps, ulong address, byte[] nameBuffer, out ProcmapQuery vma, out string name)
    {
        name = "";
        vma = default;
        if (!FixedArityVariadicCallsAreSafe)
        {
            return (int)Errno.ENOSYS;
        }

        fixed (byte* buffer = nameBuffer)
        {
            var query = new ProcmapQuery
            {
                Size = (ulong)sizeof(ProcmapQuery),
                QueryFlags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
                QueryAddr = address,
                VmaNameSize = (uint)nameBuffer.Length,
                VmaNameAddr = (ulong)buffer,
            };
            if (ioctl_raw(maps, (nuint)PROCMAP_QUERY, &query) != 0)
            {
                return Marshal.GetLastPInvokeError();
            }

            vma = query;
            if (query.VmaNameSize > 0)
            {
                // The size includes the terminating NUL.
                name = Encoding.UTF8.GetString(nameBuffer, 0, (int)query.VmaNameSize - 1);
            }

            return 0;
        }
    }
}
