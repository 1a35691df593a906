using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    private const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 0x1C;

    internal const int S_IFMT = 0xF000;
    internal const int S_IFREG = 0x8000;

    // statx(2), Linux 4.11; glibc 2.28. struct statx has one layout on every architecture
    // (include/uapi/linux/stat.h): stx_mode is the u16 at offset 0x1C.
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx_raw(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The file type and mode bits (st_mode) of the file at <paramref name="path"/>, following links; -1 with the errno on failure.</summary>
    internal static unsafe int StatMode(string path, out int errno)
    {
        byte* buffer = stackalloc byte[StatxSize];
        if (statx_raw(AT_FDCWD, path, 0, STATX_TYPE, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return -1;
        }

        errno = 0;
        return *(ushort*)(buffer + StatxModeOffset);
    }
}
