using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using MadvPS.Core;

namespace MadvPS.Tests;

/// <summary>Builds smaps text as the kernel writes it, for the parser tests.</summary>
internal static class SmapsText
{
    public static readonly string[] SizeKeys =
    {
        "Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
        "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
        "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
    };

    public static string Header(ulong start, ulong end, string perms = "rw-p", ulong offset = 0, string device = "00:00", ulong inode = 0, string name = "")
    {
        string head = $"{start:x}-{end:x} {perms} {offset:x8} {device} {inode}";
        return name.Length == 0 ? head + " " : head.PadRight(73) + name;
    }

    public static string Entry(ulong start, ulong end, string perms = "rw-p", string name = "", ulong inode = 0,
        IDictionary<string, long>? kb = null, string vmFlags = "rd wr mr mw me ac ", bool thp = false, int? pkey = 0)
    {
        var text = new StringBuilder();
        text.Append(Header(start, end, perms, 0, inode == 0 ? "00:00" : "fe:00", inode, name)).Append('\n');
        foreach (string key in SizeKeys)
        {
            long value = key == "Size" ? (long)(end - start) / 1024 : key is "KernelPageSize" or "MMUPageSize" ? 4 : 0;
            if (kb is not null && kb.TryGetValue(key, out long given)) value = given;
            text.Append($"{key + ":",-16}{value,8} kB\n");
        }

        text.Append($"THPeligible:    {(thp ? 1 : 0),8}\n");
        if (pkey is int key2) text.Append($"ProtectionKey:  {key2,8}\n");
        text.Append("VmFlags: ").Append(vmFlags).Append('\n');
        return text.ToString();
    }

    public static List<MemoryMapping> Parse(string text, bool expectVmFlags = true) => Parse(Encoding.UTF8.GetBytes(text), expectVmFlags);

    public static List<MemoryMapping> Parse(byte[] bytes, bool expectVmFlags = true)
    {
        var parser = new SmapsParser(new MemoryStream(bytes), expectVmFlags);
        var stat = new ProcessStat(1, "test", 'S', 42);
        var all = new List<MemoryMapping>();
        while (parser.TryReadEntry(out SmapsEntry entry))
        {
            all.Add(MappingReader.ToMapping(entry, stat, "test", "boot"));
        }

        return all;
    }
}
