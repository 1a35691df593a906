using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>
/// statfs f_type values (include/uapi/linux/magic.h, and the filesystems' own headers for zfs and
/// ntfs3): the one table of them. f_type is a signed long; values with the top bit set
/// (hugetlbfs) are compared as u32, as fstatfs returns them here.
/// </summary>
internal static class FilesystemMagic
{
    public const long Hugetlbfs = 0x958458F6;

    /// <summary>tmpfs, and the internal shmem mount behind memfds, System V shm and shared anonymous memory.</summary>
    public const long Tmpfs = 0x01021994;

    /// <summary>Filesystems that keep a regular file's pages in the page cache (or shmem), so COLD and PAGEOUT can take them.</summary>
    public static readonly IReadOnlySet<long> PageCache = new HashSet<long>
    {
        0xEF53,        // ext2, ext3, ext4
        0x58465342,    // xfs
        0x9123683E,    // btrfs
        Tmpfs,
        0x794C7630,    // overlayfs
        0x73717368,    // squashfs
        0xE0F5E1E2,    // erofs
        0xF2F52010,    // f2fs
        0xCA451A4E,    // bcachefs
        0x2FC12FC1,    // zfs
        0x6969,        // nfs
        0x65735546,    // fuse
        0x01021997,    // 9p
        0xFF534D42,    // cifs
        0xFE534D42,    // smb2
        0x00C36400,    // ceph
        0x858458F6,    // ramfs
        0x9660,        // iso9660
        0x4D44,        // vfat, msdos
        0x2011BAB0,    // exfat
        0x7366746E,    // ntfs3
        0x3153464A,    // jfs
        0x52654973,    // reiserfs
        0x15013346,    // udf
        0x01161970,    // gfs2
        0x7461636F,    // ocfs2
    };
}
