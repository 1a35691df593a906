using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CsCheck;
using MadvPS.Commands;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Property-based and fuzz tests of <see cref="SmapsParser"/> with CsCheck: generated smaps text as
/// the kernel writes it (fs/proc/task_mmu.c) must come back field for field; damaged text must give
/// only <see cref="SmapsFormatException"/>, end, and never hand out a mapping that carries fields of
/// another entry. Every property runs a fixed number of inputs (see the Inputs constants; the counts
/// are quoted in docs/reliability.md) from a random seed, which CsCheck prints when a property fails.
/// </summary>
public class SmapsParserFuzzTests
{
    internal const int RoundTripInputs = 600;
    internal const int CutInputs = 200;
    internal const int CutsPerInput = 16;
    internal const int RollupInputs = 30;
    internal const int LineDamageInputs = 2000;
    internal const int ByteDamageInputs = 3000;
    internal const int RandomBytesInputs = 6000;

    /// <summary>MADVPS_FUZZ_SCALE=N runs N times as many inputs (a long run before a release); 1 in the suite.</summary>
    internal static readonly int Scale =
        int.TryParse(Environment.GetEnvironmentVariable("MADVPS_FUZZ_SCALE"), out int scale) && scale > 0 ? scale : 1;

    // A property that has not finished by then loops (or is hopelessly slow): fail instead of hanging.
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(2 * Scale);

    private static readonly string[] s_knownCodes =
    {
        "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "sr", "rr", "dc", "de", "ac", "nr", "ht",
        "sf", "ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg", "um", "uw", "ui", "bt", "mt", "ss", "sl", "lf", "dp", "gu",
    };

    private static readonly string[] s_rollupKeys =
    {
        "Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean", "Shared_Dirty", "Private_Clean",
        "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
        "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
    };

    private const long MaxKb = long.MaxValue / 1024;

    private static readonly SmapsDefect[] s_cutOff = { SmapsDefect.CutOffLine, SmapsDefect.CutOffEntry };

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

    // ---- Properties ------------------------------------------------------------------------------

    [Fact]
    public void WellFormedTextComesBackFieldForField()
    {
        WithinDeadline(() => Gen.Select(s_entry.Array[0, 20], s_chunks).Sample((entries, chunks) =>
        {
            byte[] text = Encoding.UTF8.GetBytes(string.Concat(entries.Select(e => e.Text())));
            List<MemoryMapping> parsed = ParseAll(text, chunks, out Exception? error);
            Assert.Null(error);
            Assert.Equal(entries.Length, parsed.Count);
            for (int i = 0; i < entries.Length; i++)
            {
                AssertSame(entries[i], parsed[i]);
            }
        }, iter: RoundTripInputs * Scale));
    }

    [Fact]
    public void TextCutOffAtAnyByteYieldsTheCompleteEntriesBeforeTheCutAndOneClearError()
    {
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 8], s_chunks, Gen.Int.Array[CutsPerInput]).Sample((entries, chunks, cutSeeds) =>
        {
            var ends = new List<int>();
            var all = new List<byte>();
            foreach (Entry entry in entries)
            {
                all.AddRange(Encoding.UTF8.GetBytes(entry.Text()));
                ends.Add(all.Count);
            }

            byte[] whole = all.ToArray();
            // Random cuts, and the bytes on either side of each entry boundary.
            IEnumerable<int> cuts = cutSeeds.Select(s => (int)((uint)s % (uint)whole.Length))
                .Concat(ends.SelectMany(e => new[] { e - 1, e, e + 1 }))
                .Where(c => c >= 0 && c <= whole.Length);
            foreach (int cut in cuts)
            {
                var parser = new SmapsParser(new ChunkedStream(whole.AsSpan(0, cut).ToArray(), chunks));
                var seen = new List<SmapsEntry>();
                var starts = new List<ulong>();
                SmapsFormatException? error = null;
                try
                {
                    while (parser.TryReadEntry(out SmapsEntry e))
                    {
                        starts.Add(e.Start);
                    }
                }
                catch (SmapsFormatException e)
                {
                    error = e;
                }

                int complete = ends.Count(end => end <= cut);
                Assert.Equal(entries.Take(complete).Select(e => e.Start), starts);
                bool atBoundary = cut == 0 || ends.Contains(cut);
                if (atBoundary)
                {
                    Assert.Null(error);
                }
                else
                {
                    Assert.NotNull(error);
                    Assert.Contains(error!.Defect, s_cutOff);
                    Assert.Contains("cut off", FailureText.Of(error));
                    // One error: the parser hands out nothing more, and throws no second time.
                    Assert.False(parser.TryReadEntry(out _));
                }
            }
        }, iter: CutInputs * Scale));
    }

    [Fact]
    public void ARollupCutOffAtAnyByteIsAnErrorUnlessItIsWhole()
    {
        Gen<(ulong, ulong)> range = Gen.Select(Gen.ULong[0, 0x7fff_ffff_ffff], Gen.ULong[0, 0x7fff_ffff_ffff], (a, b) => (Math.Min(a, b), Math.Max(a, b)));
        WithinDeadline(() => Gen.Select(range, s_kb.Array[s_rollupKeys.Length], s_chunks).Sample((r, kb, chunks) =>
        {
            var text = new StringBuilder($"{r.Item1:x8}-{r.Item2:x8} ---p 00000000 00:00 0".PadRight(72) + " [rollup]\n");
            for (int i = 0; i < s_rollupKeys.Length; i++)
            {
                // Locked closes every rollup (__show_smap); the others may be missing on older kernels.
                long value = kb[i] ?? (s_rollupKeys[i] == "Locked" ? 0 : -1);
                if (value >= 0)
                {
                    text.Append($"{s_rollupKeys[i] + ":",-16}{value,8} kB\n");
                }
            }

            byte[] whole = Encoding.ASCII.GetBytes(text.ToString());
            for (int cut = 0; cut <= whole.Length; cut++)
            {
                var parser = new SmapsParser(new ChunkedStream(whole.AsSpan(0, cut).ToArray(), chunks), expectVmFlags: false);
                if (cut == 0)
                {
                    Assert.False(parser.TryReadEntry(out _));
                }
                else if (cut == whole.Length)
                {
                    Assert.True(parser.TryReadEntry(out SmapsEntry e));
                    Assert.Equal((kb[^1] ?? 0) * 1024, e.Sizes[(int)SmapsField.Locked]);
                    Assert.Equal((kb[0] ?? 0) * 1024, e.Sizes[(int)SmapsField.Rss]);
                    Assert.False(parser.TryReadEntry(out _));
                }
                else
                {
                    var error = Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
                    Assert.Contains(error.Defect, s_cutOff);
                    Assert.Contains("cut off", FailureText.Of(error));
                    Assert.False(parser.TryReadEntry(out _));
                }
            }
        }, iter: RollupInputs * Scale));
    }

    /// <summary>
    /// Lines lost, lines doubled, garbage and blank lines, one line moved anywhere, whole entries
    /// dropped or repeated, and a cut at the end: every mapping the parser hands out must carry only
    /// fields of the entry its header belongs to. Each entry is tagged (every value of entry i says
    /// i), so a field that strays into another entry shows. (A line lost and another entry's line
    /// of the same key moved into its place is a well-formed entry that no parser can tell apart,
    /// so a move is never combined with a loss, nor with a cut, which loses the rest.)
    /// </summary>
    [Fact]
    public void DamagedLinesNeverGiveAMappingFieldsOfTwoEntries()
    {
        Gen<string> garbage = Gen.String[Gen.Char["GHIJKLMNOP:;-_ xyz"], 0, 12];
        Gen<LineDamage> lossOrNoise = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1 << 20], garbage, (kind, at, g) => new LineDamage(kind, at, 0, g));
        Gen<LineDamage> noise = Gen.Select(Gen.Int[1, 3], Gen.Int[0, 1 << 20], garbage, (kind, at, g) => new LineDamage(kind, at, 0, g));
        Gen<LineDamage> move = Gen.Select(Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], (at, to) => new LineDamage(4, at, to, ""));
        Gen<LineDamage[]> damages = Gen.Frequency(
            (1, lossOrNoise.Array[0, 4]),
            (1, Gen.Select(noise.Array[0, 3], move, (n, m) => n.Append(m).ToArray())));
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 12], Gen.Int[0, 1 << 20].Array[0, 16], damages, Gen.Int[-1, 1 << 20], s_chunks)
            .Sample((raw, order, damages, cut, chunks) =>
        {
            Entry[] tagged = raw.Select((e, i) => Tag(e, i)).ToArray();
            // Entries dropped and repeated as a whole (seq_file may show a VMA twice or skip it).
            IEnumerable<Entry> shown = order.Length == 0 ? tagged : order.Select(o => tagged[o % tagged.Length]);
            List<string> lines = shown.SelectMany(e => e.Lines()).ToList();
            foreach (LineDamage d in damages)
            {
                d.Apply(lines);
            }

            byte[] text = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
            if (cut >= 0 && !damages.Any(d => d.Kind == 4))
            {
                // A cut loses the rest of the text: like any loss, never combined with a move.
                text = text.AsSpan(0, cut % (text.Length + 1)).ToArray();
            }

            foreach (MemoryMapping m in ParseAll(text, chunks, out _))
            {
                Entry? own = tagged.FirstOrDefault(e => e.Start == m.Start);
                Assert.NotNull(own);
                AssertFieldsOnlyOf(own!, m);
            }
        }, iter: LineDamageInputs * Scale));
    }

    /// <summary>
    /// Bytes changed, inserted or deleted, text spliced at any byte: the parser ends, throws nothing
    /// but SmapsFormatException, and the entries wholly before the first damaged byte come back intact.
    /// </summary>
    [Fact]
    public void DamagedBytesGiveOnlyFormatErrorsAndLeaveTheEntriesBeforeThemIntact()
    {
        Gen<ByteDamage> damage = Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Byte,
            (kind, a, b, value) => new ByteDamage(kind, a, b, value));
        WithinDeadline(() => Gen.Select(s_entry.Array[1, 10], damage.Array[1, 4], s_chunks).Sample((entries, damages, chunks) =>
        {
            var ends = new List<int>();
            var all = new List<byte>();
            foreach (Entry entry in entries)
            {
                all.AddRange(Encoding.UTF8.GetBytes(entry.Text()));
                ends.Add(all.Count);
            }

            byte[] original = all.ToArray();
            List<byte> bytes = new(original);
            foreach (ByteDamage d in damages)
            {
                d.Apply(bytes);
            }

            byte[] text = bytes.ToArray();
            int firstDamage = 0;
            while (firstDamage < text.Length && firstDamage < original.Length && text[firstDamage] == original[firstDamage])
            {
                firstDamage++;
            }

            List<MemoryMapping> parsed = ParseAll(text, chunks, out _);
            AssertSane(parsed);
            // The parser hands an entry out when the next line starts a header (or the text ends):
            // an entry is intact when its lines and the first byte after them are.
            int intact = ends.Count(end => end < firstDamage || (end == firstDamage && end == text.Length));
            Assert.True(parsed.Count >= intact, $"{parsed.Count} mappings came back, but {intact} entries lie wholly before the first damaged byte ({firstDamage}).");
            for (int i = 0; i < intact; i++)
            {
                AssertSame(entries[i], parsed[i]);
            }
        }, iter: ByteDamageInputs * Scale));
    }

    [Fact]
    public void RandomBytesGiveOnlyFormatErrors()
    {
        // Raw bytes, and text made of smaps' own pieces in random order (which gets much further in).
        Gen<byte[]> pieces = Gen.OneOfConst(
            "1000-2000 ", "rw-p ", "00000000 ", "fe:01 ", "1234 ", "/usr/lib/x", " (deleted)", "[heap]", "\n", "\n", "\n",
            "Size:", "Rss:", "Pss:", "Locked:", "Swap:", "       4 kB", " 99999999999999999999 kB", "THPeligible: 1", "ProtectionKey: 0",
            "VmFlags: rd wr mr mw me ac ", "VmFlags:", "KSM:", ":", " ", "-", "ffffffffffffffff", "\\012", "0", "kB")
            .Array[0, 120].Select(p => Encoding.ASCII.GetBytes(string.Concat(p)));
        Gen<byte[]> raw = Gen.Frequency((1, Gen.Byte.Array[0, 2000]), (3, pieces));
        WithinDeadline(() => Gen.Select(raw, Gen.Bool, s_chunks).Sample((text, vmFlags, chunks) =>
        {
            AssertSane(ParseAll(text, chunks, out _, vmFlags));
        }, iter: RandomBytesInputs * Scale));
    }

    // ---- Targeted cases the fuzzing pointed at -----------------------------------------------------

    [Fact]
    public void ALineWithoutEndIsAnErrorNotAnEndlessRead()
    {
        // No newline ever: the parser must give up after a bounded read, not grow its buffer until
        // memory runs out (or its size overflows).
        var endless = new EndlessStream((byte)'a', limit: 64L << 20);
        var parser = new SmapsParser(endless);
        var error = Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
        Assert.Equal(SmapsDefect.LineTooLong, error.Defect);
        Assert.Contains("A line is longer than 1024 KiB", FailureText.Of(error));
        Assert.True(endless.Served <= 4L << 20, $"{endless.Served} bytes were read before the parser gave up.");
    }

    [Fact]
    public void ALongButRealHeaderLineStillParses()
    {
        // PATH_MAX bytes of newlines escaped as \012 are the longest name the kernel writes.
        string path = "/" + new string('\n', 4095);
        var sizes = new long?[SmapsText.SizeKeys.Length];
        sizes[0] = 4;
        var entry = new Entry(0x1000, 0x2000, "r--p", 0, 0xfe, 1, 7, path, true, sizes, false, null, new[] { "rd" }, Array.Empty<string>(), 0);
        MemoryMapping m = ParseAll(Encoding.UTF8.GetBytes(entry.Text()), new[] { 100 }, out Exception? error).Single();
        Assert.Null(error);
        AssertSame(entry, m);
    }

    [Theory]
    [InlineData("1000:01")]  // major 0x1000: the kernel's majors have 12 bits (MINORBITS 20)
    [InlineData("08:100001")] // minor above 20 bits
    public void ADeviceNumberTheKernelCannotHaveIsAFormatError(string device)
    {
        string text = $"1000-2000 r--p 00000000 08:01 5 /a\nSize: 4 kB\nVmFlags: rd \n3000-4000 r--p 00000000 {device} 6 /b\nSize: 4 kB\nVmFlags: rd \n";
        var parser = new SmapsParser(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        Assert.True(parser.TryReadEntry(out SmapsEntry first));
        Assert.Equal("08:01", first.Device);
        // Before the fix, 1000:01 came back as the first entry's "08:01": the device cache kept
        // only 32 bits of major:minor.
        Assert.Throws<SmapsFormatException>(() => parser.TryReadEntry(out _));
    }

    // ---- Helpers ---------------------------------------------------------------------------------

    private static Entry Tag(Entry e, int i) => e with
    {
        Start = (ulong)(i + 1) << 32,
        End = ((ulong)(i + 1) << 32) + ((ulong)(i + 1) << 12),
        Offset = (ulong)i,
        Major = (uint)i,
        Minor = (uint)(i + 7),
        Inode = (ulong)(1000 + i),
        Name = $"/tagged/{i}",
        Deleted = false,
        Kb = Enumerable.Range(0, SmapsText.SizeKeys.Length).Select(k => (long?)(i * 1000 + k + 1)).ToArray(),
        Thp = i % 2 == 1,
        Pkey = i,
        Flags = e.Flags.Where(f => KernelVmFlags.Lookup(f) != VmFlags.None).Append($"t{i}").ToArray(),
    };

    private static void AssertFieldsOnlyOf(Entry own, MemoryMapping m)
    {
        Assert.Equal(own.End, m.End);
        Assert.Equal(own.Perms, m.Permissions);
        Assert.Equal(own.Offset, m.Offset);
        Assert.Equal(own.Device, m.Device);
        Assert.Equal(own.Inode, m.Inode);
        Assert.Equal(own.Name, m.Path);
        // A field line may be lost (its value is then 0), never taken from another entry.
        foreach ((string key, long value) in SizesOf(m))
        {
            Assert.True(value == 0 || value == own.Bytes(key), $"{key} of the entry at {m.Start:x} is {value}, not its own {own.Bytes(key)}.");
        }

        Assert.True(m.ProtectionKey is null || m.ProtectionKey == own.Pkey, $"ProtectionKey {m.ProtectionKey} is not {own.Pkey}.");
        Assert.True(!m.ThpEligible || own.Thp);
        Assert.Equal(own.KnownFlags, m.VmFlags);
        Assert.Equal(own.UnknownFlags, m.UnknownVmFlags);
    }

    // The kind each generated name stands for, from how the kernel names mappings (show_map_vma and
    // the vm_ops->name of each kind), not from the parser's own Classify: anonymous memory has no
    // name; "[anon:...]" is prctl(PR_SET_VMA_ANON_NAME), "[anon_shmem:...]" its shared form;
    // memfd_create files are "/memfd:NAME"; shared anonymous memory is "/dev/zero" with 's' (a
    // private map of /dev/zero is a plain file mapping); System V segments are "/SYSV<key>".
    private static MappingKind ExpectedKind(string name, string perms) => name switch
    {
        "" => MappingKind.Anonymous,
        "[heap]" => MappingKind.Heap,
        "[stack]" => MappingKind.Stack,
        "[vdso]" => MappingKind.Vdso,
        "[vvar]" or "[vvar_vclock]" => MappingKind.Vvar,
        "[vsyscall]" => MappingKind.Vsyscall,
        "[uprobes]" => MappingKind.Special,
        "[anon:dalvik main]" => MappingKind.NamedAnonymous,
        "[anon_shmem:ashmem]" => MappingKind.SharedMemory,
        "/memfd:madvps" => MappingKind.Memfd,
        "/dev/zero" => perms[3] == 's' ? MappingKind.SharedMemory : MappingKind.File,
        "/SYSV0000002a" => MappingKind.SharedMemory,
        // The random names are "/" and characters that spell none of the prefixes above.
        _ when name.StartsWith('/') || name.StartsWith("anon_inode:", StringComparison.Ordinal) => MappingKind.File,
        _ => throw new InvalidOperationException($"No expected kind for the generated name '{name}'."),
    };

    private static void AssertSame(Entry e, MemoryMapping m)
    {
        Assert.Equal(e.Start, m.Start);
        Assert.Equal(e.End, m.End);
        Assert.Equal(e.Perms, m.Permissions);
        Assert.Equal(e.Offset, m.Offset);
        Assert.Equal(e.Device, m.Device);
        Assert.Equal(e.Inode, m.Inode);
        Assert.Equal(e.Name, m.Path);
        Assert.Equal(e.Deleted, m.IsDeleted);
        Assert.Equal(ExpectedKind(e.Name, e.Perms), m.Kind);
        foreach ((string key, long value) in SizesOf(m))
        {
            Assert.True(value == e.Bytes(key), $"{key}: {value}, expected {e.Bytes(key)}.");
        }

        Assert.Equal(e.Thp, m.ThpEligible);
        Assert.Equal(e.Pkey, m.ProtectionKey);
        Assert.Equal(e.KnownFlags, m.VmFlags);
        Assert.Equal(e.UnknownFlags, m.UnknownVmFlags);
    }

    private static IEnumerable<(string Key, long Value)> SizesOf(MemoryMapping m)
    {
        // Size is End - Start in the mapping; the Size line itself is checked through SmapsEntry elsewhere.
        yield return ("KernelPageSize", m.KernelPageSize);
        yield return ("MMUPageSize", m.MMUPageSize);
        yield return ("Rss", m.Rss);
        yield return ("Pss", m.Pss);
        yield return ("Pss_Dirty", m.PssDirty);
        yield return ("Shared_Clean", m.SharedClean);
        yield return ("Shared_Dirty", m.SharedDirty);
        yield return ("Private_Clean", m.PrivateClean);
        yield return ("Private_Dirty", m.PrivateDirty);
        yield return ("Referenced", m.Referenced);
        yield return ("Anonymous", m.Anonymous);
        yield return ("KSM", m.Ksm);
        yield return ("LazyFree", m.LazyFree);
        yield return ("AnonHugePages", m.AnonHugePages);
        yield return ("ShmemPmdMapped", m.ShmemPmdMapped);
        yield return ("FilePmdMapped", m.FilePmdMapped);
        yield return ("Shared_Hugetlb", m.SharedHugetlb);
        yield return ("Private_Hugetlb", m.PrivateHugetlb);
        yield return ("Swap", m.Swap);
        yield return ("SwapPss", m.SwapPss);
        yield return ("Locked", m.Locked);
    }

    private static void AssertSane(List<MemoryMapping> parsed)
    {
        foreach (MemoryMapping m in parsed)
        {
            Assert.True(m.End >= m.Start);
            Assert.Equal(4, m.Permissions.Length);
            Assert.Matches("^[0-9a-fA-F]+:[0-9a-fA-F]+$", m.Device);
            foreach ((string key, long value) in SizesOf(m))
            {
                Assert.True(value >= 0, $"{key} is negative: {value}.");
            }
        }
    }

    /// <summary>
    /// Parses everything, as MappingReader does: stops at the first error, which must be a
    /// SmapsFormatException (anything else fails the test). A parser that hands out more entries
    /// than the text has lines loops.
    /// </summary>
    private static List<MemoryMapping> ParseAll(byte[] text, int[] chunks, out Exception? error, bool expectVmFlags = true)
    {
        var parser = new SmapsParser(new ChunkedStream(text, chunks), expectVmFlags);
        var stat = new ProcessStat(1, "fuzz", 'S', 42);
        var all = new List<MemoryMapping>();
        int lines = text.Count(b => b == (byte)'\n') + 1;
        error = null;
        try
        {
            while (parser.TryReadEntry(out SmapsEntry entry))
            {
                all.Add(MappingReader.ToMapping(entry, stat, "fuzz", "boot"));
                Assert.True(all.Count <= lines, "The parser handed out more entries than the text has lines: it loops.");
            }
        }
        catch (SmapsFormatException e)
        {
            error = e;
            Assert.True(Enum.IsDefined(e.Defect));
            Assert.EndsWith($"(line {e.LineNumber}).", FailureText.Of(e));
        }

        return all;
    }

    private static void WithinDeadline(Action property)
    {
        Task run = Task.Run(property);
        if (!run.Wait(s_deadline))
        {
            Assert.Fail($"The property did not finish within {s_deadline}: the parser loops or is far too slow.");
        }

        run.GetAwaiter().GetResult();
    }

    /// <summary>0 loses line At, 1 doubles it, 2 inserts a garbage line, 3 a blank line, 4 moves line At to To.</summary>
    internal sealed record LineDamage(int Kind, int At, int To, string Garbage)
    {
        public void Apply(List<string> lines)
        {
            if (lines.Count == 0)
            {
                return;
            }

            int i = At % lines.Count;
            switch (Kind)
            {
                case 0: lines.RemoveAt(i); break;
                case 1: lines.Insert(i, lines[i]); break;
                case 2: lines.Insert(i, Garbage); break;
                case 3: lines.Insert(i, ""); break;
                case 4:
                    string moved = lines[i];
                    lines.RemoveAt(i);
                    lines.Insert(To % (lines.Count + 1), moved);
                    break;
            }
        }
    }

    internal sealed record ByteDamage(int Kind, int A, int B, byte Value)
    {
        public void Apply(List<byte> bytes)
        {
            int a = bytes.Count == 0 ? 0 : A % bytes.Count;
            switch (Kind)
            {
                case 0 when bytes.Count > 0: bytes[a] = Value; break;
                case 1: bytes.Insert(Math.Min(a, bytes.Count), Value); break;
                case 2 when bytes.Count > 0: bytes.RemoveRange(a, Math.Min(B % 64 + 1, bytes.Count - a)); break;
                case 3 when bytes.Count > 0:
                    // Splice: the text up to a, then the text from b (a repeat or a loss, at any byte).
                    int b = B % bytes.Count;
                    List<byte> spliced = bytes.Take(a).Concat(bytes.Skip(b)).ToList();
                    bytes.Clear();
                    bytes.AddRange(spliced);
                    break;
            }
        }
    }

    /// <summary>A stream that hands out its bytes in the given read sizes, in turn.</summary>
    private sealed class ChunkedStream : Stream
    {
        private readonly byte[] _data;
        private readonly int[] _chunks;
        private int _position;
        private int _read;

        public ChunkedStream(byte[] data, int[] chunks)
        {
            _data = data;
            _chunks = chunks;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, _chunks[_read++ % _chunks.Length]), _data.Length - _position);
            Array.Copy(_data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The same byte for ever; fails the test (not the machine) past a limit.</summary>
    private sealed class EndlessStream : Stream
    {
        private readonly byte _value;
        private readonly long _limit;

        public EndlessStream(byte value, long limit)
        {
            _value = value;
            _limit = limit;
        }

        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Served > _limit)
            {
                throw new InvalidOperationException($"The parser read {Served} bytes of one line and goes on reading.");
            }

            buffer.AsSpan(offset, count).Fill(_value);
            Served += count;
            return count;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
