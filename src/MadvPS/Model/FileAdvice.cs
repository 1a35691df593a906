namespace MadvPS;

/// <summary>
/// The POSIX_FADV_* advice (include/uapi/linux/fadvise.h), with the generic numbers. s390x numbers
/// DontNeed and NoReuse differently; <see cref="Core.FileCacheFacts"/> translates.
/// </summary>
public enum FileAdvice
{
    Normal = 0,
    Random = 1,
    Sequential = 2,
    WillNeed = 3,
    DontNeed = 4,
    NoReuse = 5,
}
