namespace MadvPS.Interop;

/// <summary>The Linux errno values the module distinguishes (asm-generic/errno-base.h, errno.h).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EMFILE = 24,
    ENOTTY = 25,
    ETXTBSY = 26,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ELOOP = 40,
    EOVERFLOW = 75,
    EOPNOTSUPP = 95,
}
