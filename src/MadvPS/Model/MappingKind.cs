namespace MadvPS;

/// <summary>What backs a mapping, as the kernel names it in the smaps header.</summary>
public enum MappingKind
{
    Anonymous,
    Heap,
    Stack,
    File,
    /// <summary>A memfd (<c>/memfd:NAME</c>).</summary>
    Memfd,
    /// <summary>Shared anonymous memory, System V shm, POSIX shm under /dev/shm, <c>[anon_shmem:NAME]</c>.</summary>
    SharedMemory,
    /// <summary><c>[anon:NAME]</c> (CONFIG_ANON_VMA_NAME, prctl PR_SET_VMA_ANON_NAME).</summary>
    NamedAnonymous,
    Vdso,
    Vvar,
    Vsyscall,
    /// <summary>Any other bracketed kernel name, such as <c>[uprobes]</c>.</summary>
    Special,
}
