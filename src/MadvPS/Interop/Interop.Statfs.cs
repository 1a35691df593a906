using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // struct statfs is 120 bytes on x86_64 and aarch64; f_type, the filesystem's magic number,
    // is its first member (a long) on every 64-bit architecture.
    private const int StatfsSize = 256;

    // statfs(2); glibc.
    [LibraryImport(Name, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statfs_raw(string path, byte* buffer);

    /// <summary>The magic number of the filesystem that holds <paramref name="path"/> (f_type), following links; -1 with the errno on failure.</summary>
    internal static unsafe long FilesystemType(string path, out int errno)
    {
        byte* buffer = stackalloc byte[StatfsSize];
        if (statfs_raw(path, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return -1;
        }

        errno = 0;
        return *(long*)buffer;
    }
}
