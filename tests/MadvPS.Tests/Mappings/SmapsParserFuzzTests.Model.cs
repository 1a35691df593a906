using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

// The model of smaps text as the kernel writes it, and the generators of it.
public partial class SmapsParserFuzzTests
{
    // ---- The model: one smaps entry as the kernel writes it -------------------------------------

    /// <summary>An smaps entry. Kb holds the value of each of <see cref="SmapsText.SizeKeys"/>, null when the key is absent (an older kernel).</summary>
    internal sealed record Entry(
        ulong Start, ulong End, string Perms, ulong Offset, uint Major, uint Minor, ulong Inode,
        string Name, bool Deleted, long?[] Kb, bool Thp, int? Pkey, string[] Flags, string[] Extras, int ExtrasAt)
    {
        public string Device => $"{Major:x2}:{Minor:x2}";

        /// <summary>The lines of the entry, as show_smap prints them.</summary>
        public List<string> Lines()
        {
            // show_vma_header_prefix: hex fields of at least 8 (addresses, offset) and 2 (device)
            // digits, then the inode and a space; seq_pad() then pads to column 72 and adds one
            // space before a name. seq_path escapes only '\n', as \012.
            string prefix = $"{Start:x8}-{End:x8} {Perms} {Offset:x8} {Major:x2}:{Minor:x2} {Inode} ";
            string name = Name.Replace("\n", "\\012") + (Deleted ? " (deleted)" : "");
            var lines = new List<string> { name.Length == 0 ? prefix : prefix.PadRight(72) + " " + name };
            for (int i = 0; i < SmapsText.SizeKeys.Length; i++)
            {
                if (i == ExtrasAt)
                {
                    lines.AddRange(Extras);
                }

                if (Kb[i] is long kb)
                {
                    lines.Add($"{SmapsText.SizeKeys[i] + ":",-16}{kb,8} kB");
                }
            }

            if (ExtrasAt >= SmapsText.SizeKeys.Length)
            {
                lines.AddRange(Extras);
            }

            lines.Add($"THPeligible:    {(Thp ? 1 : 0),8}");
            if (Pkey is int pkey)
            {
                lines.Add($"ProtectionKey:  {pkey,8}");
            }

            lines.Add("VmFlags: " + string.Concat(Flags.Select(f => f + " ")));
            return lines;
        }

        public string Text() => string.Concat(Lines().Select(l => l + "\n"));

        public VmFlags KnownFlags => Flags.Aggregate(VmFlags.None, (all, f) => all | KernelVmFlags.Lookup(f));

        public string UnknownFlags => string.Join(" ", Flags.Where(f => KernelVmFlags.Lookup(f) == VmFlags.None));

        public long Bytes(string key)
        {
            int i = Array.IndexOf(SmapsText.SizeKeys, key);
            return Kb[i] is long kb ? kb * 1024 : 0;
        }
    }

    // ---- Generators ------------------------------------------------------------------------------

    private static readonly Gen<string> s_perms =
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Bool, Gen.Bool, (r, w, x, s) => $"{(r ? 'r' : '-')}{(w ? 'w' : '-')}{(x ? 'x' : '-')}{(s ? 's' : 'p')}");

    // Paths hold spaces, tabs, backslashes, newlines and non-ASCII, as real ones may. No digit
    // follows a backslash (a literal "\012" in a file name cannot be told from an escaped newline:
    // the kernel does not escape backslashes) and no name ends in " (deleted)" unless it is one.
    private static readonly Gen<string> s_name = Gen.Frequency(
        (4, Gen.Const("")),
        (3, Gen.OneOfConst("[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]",
            "[anon:dalvik main]", "[anon_shmem:ashmem]", "/memfd:madvps", "/dev/zero", "/SYSV0000002a", "anon_inode:[perf_event]")),
        (6, Gen.String[Gen.Char["abcXYZé \t\\/\n.-()[]ü"], 1, 48].Select(s => "/" + s)));

    private static readonly Gen<long?> s_kb = Gen.Frequency(
        (1, Gen.Const((long?)null)),
        (6, Gen.Long[0, 4096].Select(v => (long?)v)),
        (2, Gen.Long[0, MaxKb].Select(v => (long?)v)));

    private static readonly Gen<string[]> s_flags = Gen.Select(
        Gen.Int[0, s_knownCodes.Length - 1].Array[0, 14],
        Gen.OneOfConst("zz", "??", "qq", "x1", "abc").Array[0, 3],
        (known, unknown) => known.Select(i => s_knownCodes[i]).Concat(unknown).ToArray());

    private static readonly Gen<string[]> s_extras =
        Gen.OneOfConst("FutureKey:          7 kB", "Note: later kernels may add lines", "Pss_Future:  1 kB", "X:").Array[0, 2];

    private static readonly Gen<(ulong Start, ulong End)> s_range = Gen.Frequency(
        (3, Gen.Select(Gen.ULong[0, 0x7fff_ffff_f000], Gen.ULong[0, 1 << 30], (s, l) => (s, s + l))),
        (1, Gen.Select(Gen.ULong, Gen.ULong, (a, b) => (Math.Min(a, b), Math.Max(a, b)))));

    private static readonly Gen<Entry> s_entry = Gen.Select(
        s_range,
        Gen.Select(s_perms, Gen.ULong, Gen.UInt[0, 0xfff], Gen.UInt[0, 0xfffff], Gen.ULong, (p, o, ma, mi, ino) => (p, o, ma, mi, ino)),
        Gen.Select(s_name, Gen.Bool, (n, d) => (n, d && n.StartsWith('/'))),
        // Size is in every entry (show_smap prints it first); any other key may be missing.
        s_kb.Array[SmapsText.SizeKeys.Length].Select(kb => kb.Select((v, i) => i == 0 ? v ?? 4 : v).ToArray()),
        Gen.Select(Gen.Bool, Gen.Frequency((1, Gen.Const((int?)null)), (3, Gen.Int[0, 15].Select(k => (int?)k)))),
        s_flags,
        Gen.Select(s_extras, Gen.Int[0, SmapsText.SizeKeys.Length]),
        (range, head, name, kb, thpKey, flags, extras) => new Entry(
            range.Start, range.End, head.p, head.o, head.ma, head.mi, head.ino, name.n, name.Item2, kb,
            thpKey.Item1, thpKey.Item2, flags, extras.Item1, extras.Item2));

    // How the stream hands out the text: tiny reads cross every line and buffer boundary.
    private static readonly Gen<int[]> s_chunks = Gen.Frequency(
        (1, Gen.Const(new[] { 1 << 20 })),
        (3, Gen.Int[1, 300].Array[1, 8]));
}
