using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// Whether the kernel shows the calling thread a file's page cache: the rule of
/// <see cref="FileCacheFacts.MincoreHidesSince"/>, asked of the kernel piece by piece with the
/// thread's own credentials (fsuid, effective capabilities), which are what the kernel checks.
/// </summary>
internal static class PageCacheVisibility
{
    public static bool CallerCanSee(CachedFile file)
    {
        if (Libc.CurrentFsuid == file.OwnerUid)
        {
            return true;
        }

        if (Capabilities.ThreadHas(Capabilities.Fowner))
        {
            return true;
        }

        // The descriptor's magic link names exactly the opened file, even if the path changed since.
        return !Libc.CheckWriteAccess($"/proc/self/fd/{file.Handle.DangerousGetHandle()}").Failed;
    }

    public static FileCacheException Hidden(CachedFile file) => new(FileCacheFailure.PageCacheHidden, file.Path, (int)Errno.EPERM);
}
