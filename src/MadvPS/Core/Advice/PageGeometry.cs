using System;
using System.Globalization;
using System.IO;

namespace MadvPS.Core;

/// <summary>
/// The page sizes the advice depends on, from the running system: the base page (4 KiB on x86_64;
/// 4, 16 or 64 KiB on arm64) and the PMD-sized huge page that Collapse builds (2 MiB with 4 KiB
/// pages, 32 MiB with 16 KiB, 512 MiB with 64 KiB). Tests make their own to check other kernels.
/// </summary>
internal sealed record PageGeometry(long PageSize, long HugePageSize)
{
    private const string HugePageSizeFile = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
    private const long DefaultHugePageSize = 2 * 1024 * 1024;

    /// <summary>The running kernel's: Environment.SystemPageSize, and hpage_pmd_size (2 MiB when the file is missing, as without THP).</summary>
    public static PageGeometry System { get; } = new(Environment.SystemPageSize, ReadHugePageSize(HugePageSizeFile) ?? DefaultHugePageSize);

    /// <summary>The PMD size a kernel with this base page size has: a page table holds PageSize/8 entries.</summary>
    public static PageGeometry ForPageSize(long pageSize) => new(pageSize, pageSize * (pageSize / 8));

    internal static long? ReadHugePageSize(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size > 0 && (size & (size - 1)) == 0 ? size : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
