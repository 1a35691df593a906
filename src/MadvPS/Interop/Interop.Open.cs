using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // open(2). glibc declares it variadic (the mode, read only with O_CREAT or O_TMPFILE, which
    // are never passed here); see FixedArityVariadicCallsAreSafe for why the fixed form is sound.
    [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open_raw(string path, nint flags);

    /// <summary>Opens a file read-only, without blocking on FIFOs and without becoming a controlling terminal.</summary>
    internal static SafeFileHandle OpenReadOnly(string path)
    {
        if (!FixedArityVariadicCallsAreSafe)
        {
            throw new PlatformNotSupportedException($"Opening files is supported on x86_64 and aarch64 only, not on {RuntimeInformation.ProcessArchitecture}.");
        }

        long fd = SysResult.FromReturn("open", open_raw(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)).Check(path);
        return new SafeFileHandle((nint)fd, ownsHandle: true);
    }
}
