using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, SetLastError = true)]
    internal static partial int close(int fd);
}
