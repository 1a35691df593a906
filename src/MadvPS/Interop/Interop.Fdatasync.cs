using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // fdatasync(2): allowed on a read-only descriptor; writes the file's dirty pages and waits.
    [LibraryImport(Name, EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int fdatasync_raw(SafeFileHandle fd);

    internal static void Fdatasync(SafeFileHandle fd, string pathForErrors)
    {
        SysResult.FromReturn("fdatasync", fdatasync_raw(fd)).Check(pathForErrors);
    }
}
