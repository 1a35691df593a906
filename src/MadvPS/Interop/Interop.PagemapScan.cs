using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>
/// struct pm_scan_arg (include/uapi/linux/fs.h, Linux 6.7): twelve u64s. Declared here because
/// Debian 12's headers predate it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PmScanArg
{
    /// <summary>sizeof(struct pm_scan_arg): the kernel refuses any other value with EINVAL.</summary>
    public ulong Size;
    public ulong Flags;
    /// <summary>First address to walk; must be page aligned.</summary>
    public ulong Start;
    /// <summary>End of the walk (exclusive); the kernel rounds it up to a page.</summary>
    public ulong End;
    /// <summary>Set by the kernel: where the walk stopped (End when it finished).</summary>
    public ulong WalkEnd;
    /// <summary>Address of a page_region array.</summary>
    public ulong Vec;
    public ulong VecLength;
    /// <summary>Stop after this many reported pages; 0 = no limit.</summary>
    public ulong MaxPages;
    public ulong CategoryInverted;
    public ulong CategoryMask;
    public ulong CategoryAnyOfMask;
    /// <summary>The categories to report; pages are joined into one region while these agree.</summary>
    public ulong ReturnMask;
}

/// <summary>struct page_region: [Start, End) with one set of categories.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PageRegion
{
    public ulong Start;
    public ulong End;
    public ulong Categories;
}

internal static partial class Libc
{
    /// <summary>PAGEMAP_SCAN = _IOWR('f', 16, struct pm_scan_arg): dir 3 &lt;&lt; 30 | 96 &lt;&lt; 16 | 'f' &lt;&lt; 8 | 16 (asm-generic ioctl numbering, x86_64 and aarch64).</summary>
    internal const uint PAGEMAP_SCAN = 0xC0606610;

    // The page categories of PAGEMAP_SCAN (include/uapi/linux/fs.h, 6.7).
    internal const ulong PAGE_IS_WPALLOWED = 1 << 0;
    internal const ulong PAGE_IS_WRITTEN = 1 << 1;
    internal const ulong PAGE_IS_FILE = 1 << 2;
    internal const ulong PAGE_IS_PRESENT = 1 << 3;
    internal const ulong PAGE_IS_SWAPPED = 1 << 4;
    internal const ulong PAGE_IS_PFNZERO = 1 << 5;
    internal const ulong PAGE_IS_HUGE = 1 << 6;
    internal const ulong PAGE_IS_SOFT_DIRTY = 1 << 7;

    // ioctl(2) is variadic in glibc (int ioctl(int, unsigned long, ...)); the one variadic
    // argument here is a pointer, which x86_64 and aarch64 pass as a fixed one (see
    // FixedArityVariadicCallsAreSafe). Elsewhere the call is not made.
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int ioctl_pm_scan(int fd, nuint request, PmScanArg* arg);

    /// <summary>Whether this process can make the PAGEMAP_SCAN call at all (architecture, not kernel).</summary>
    internal static bool PagemapScanCallable => FixedArityVariadicCallsAreSafe;

    /// <summary>
    /// ioctl(pagemap, PAGEMAP_SCAN, arg). Returns the number of regions written to arg.Vec, or -1
    /// with the errno in <paramref name="errno"/> (ENOTTY before Linux 6.7).
    /// </summary>
    internal static unsafe long PagemapScan(SafeFileHandle pagemap, ref PmScanArg arg, out int errno)
    {
        if (!PagemapScanCallable)
        {
            errno = (int)Errno.ENOTTY;
            return -1;
        }

        arg.Size = (ulong)sizeof(PmScanArg);
        bool added = false;
        try
        {
            pagemap.DangerousAddRef(ref added);
            fixed (PmScanArg* a = &arg)
            {
                int rc = ioctl_pm_scan((int)pagemap.DangerousGetHandle(), PAGEMAP_SCAN, a);
                errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
                return rc;
            }
        }
        finally
        {
            if (added)
            {
                pagemap.DangerousRelease();
            }
        }
    }
}
