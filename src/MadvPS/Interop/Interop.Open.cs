using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // open(2). glibc declares it variadic (the mode, read only with O_CREAT or O_TMPFILE, which
    // are never passed here); see FixedArityVariadicCallsAreSafe for why the fixed form is sound.
    // The path is bytes, not a string: a Linux name need not be UTF-8.
    [LibraryImport(Name, EntryPoint = "open", SetLastError = true)]
    private static unsafe partial int open_raw(byte* path, nint flags);

    /// <summary>
    /// Opens a file read-only, without blocking on FIFOs and without becoming a controlling terminal.
    /// <paramref name="path"/> is the name's bytes followed by a NUL; <paramref name="pathForErrors"/> names it in errors.
    /// </summary>
    internal static unsafe SafeFileHandle OpenReadOnly(ReadOnlySpan<byte> path, string pathForErrors)
    {
        if (!FixedArityVariadicCallsAreSafe)
        {
            throw new PlatformNotSupportedException($"Opening files is supported on x86_64 and aarch64 only, not on {RuntimeInformation.ProcessArchitecture}.");
        }

        RequireNul(path);
        int result;
        fixed (byte* bytes = path)
        {
            result = open_raw(bytes, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        }

        long fd = SysResult.FromReturn("open", result).Check(pathForErrors);
        return new SafeFileHandle((nint)fd, ownsHandle: true);
    }
}
