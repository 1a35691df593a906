using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Every kernel number the module writes down, compared with the C headers of this machine:
/// a small C program prints each constant by its header name, and the test compares it with the
/// module's value. The headers are the independent source (the .NET runtime's own shim enums are
/// not the kernel's). Values newer than the installed headers (MADV_GUARD_*, on Debian 12's 6.1
/// headers) are printed only where the header defines them, and the rest are checked.
/// </summary>
[Trait("Needs", "Root")]
public sealed class ConstantsTests
{
    private static readonly (string Header, string Name, long Value)[] s_constants = BuildTable();

    private static (string, string, long)[] BuildTable()
    {
        var table = new List<(string, string, long)>
        {
            ("fcntl.h", "AT_FDCWD", Libc.AT_FDCWD),
            ("fcntl.h", "AT_EMPTY_PATH", Libc.AT_EMPTY_PATH),
            ("fcntl.h", "AT_EACCESS", Libc.AT_EACCESS),
            ("fcntl.h", "AT_SYMLINK_NOFOLLOW", Libc.AT_SYMLINK_NOFOLLOW),
            ("dirent.h", "DT_UNKNOWN", Libc.DT_UNKNOWN),
            ("dirent.h", "DT_DIR", Libc.DT_DIR),
            ("dirent.h", "DT_LNK", Libc.DT_LNK),
            // glibc's struct dirent64 is the kernel's linux_dirent64 on Linux.
            ("stddef.h", "dirent64_d_reclen", Libc.DirentReclenOffset),
            ("stddef.h", "dirent64_d_type", Libc.DirentTypeOffset),
            ("stddef.h", "dirent64_d_name", Libc.DirentNameOffset),
            ("fcntl.h", "O_RDONLY", Libc.O_RDONLY),
            ("fcntl.h", "O_WRONLY", Libc.O_WRONLY),
            ("fcntl.h", "O_NOCTTY", Libc.O_NOCTTY),
            ("fcntl.h", "O_NONBLOCK", Libc.O_NONBLOCK),
            ("fcntl.h", "O_CLOEXEC", Libc.O_CLOEXEC),
            ("unistd.h", "W_OK", Libc.W_OK),
            ("sys/mman.h", "PROT_READ", Libc.PROT_READ),
            ("sys/mman.h", "MAP_SHARED", Libc.MAP_SHARED),
            ("signal.h", "SIGSTOP", Libc.SIGSTOP),
            ("signal.h", "SIGCONT", Libc.SIGCONT),
            ("sys/syscall.h", "__NR_cachestat_or_451", Libc.SYS_cachestat),
            ("linux/stat.h", "STATX_TYPE", Libc.STATX_TYPE),
            ("linux/stat.h", "STATX_BASIC_STATS", Libc.STATX_BASIC_STATS),
            ("sys/stat.h", "S_IFMT", FileType.Mask),
            ("sys/stat.h", "S_IFSOCK", FileType.Socket),
            ("sys/stat.h", "S_IFLNK", FileType.SymbolicLink),
            ("sys/stat.h", "S_IFREG", FileType.Regular),
            ("sys/stat.h", "S_IFBLK", FileType.BlockDevice),
            ("sys/stat.h", "S_IFDIR", FileType.Directory),
            ("sys/stat.h", "S_IFCHR", FileType.CharacterDevice),
            ("sys/stat.h", "S_IFIFO", FileType.Fifo),
            ("linux/magic.h", "HUGETLBFS_MAGIC", FilesystemMagic.Hugetlbfs),
            ("linux/magic.h", "TMPFS_MAGIC", FilesystemMagic.Tmpfs),
            ("linux/capability.h", "CAP_FOWNER", Capabilities.Fowner),
            ("linux/capability.h", "CAP_SYS_PTRACE", Capabilities.SysPtrace),
            ("linux/capability.h", "CAP_SYS_ADMIN", Capabilities.SysAdmin),
            ("linux/capability.h", "CAP_SYS_NICE", Capabilities.SysNice),
        };
        foreach (MemoryAdvice advice in Enum.GetValues<MemoryAdvice>())
        {
            // glibc 2.36's <sys/mman.h> lacks the newest; <linux/mman.h> (the kernel's uapi) has them.
            table.Add(("linux/mman.h", "MADV_" + MadvName(advice), (long)advice));
        }

        foreach (FileAdvice advice in Enum.GetValues<FileAdvice>())
        {
            table.Add(("fcntl.h", "POSIX_FADV_" + advice.ToString().ToUpperInvariant(), FileCacheFacts.FadviseValue(advice, System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture)));
        }

        foreach (Errno errno in Enum.GetValues<Errno>().Where(e => e != Errno.None))
        {
            table.Add(("errno.h", errno.ToString(), (long)errno));
        }

        return table.ToArray();
    }

    // MemoryAdvice names are the kernel's without underscores: PageOut is MADV_PAGEOUT,
    // DontNeedLocked MADV_DONTNEED_LOCKED, PopulateRead MADV_POPULATE_READ.
    private static string MadvName(MemoryAdvice advice) => advice switch
    {
        MemoryAdvice.DontNeedLocked => "DONTNEED_LOCKED",
        MemoryAdvice.PopulateRead => "POPULATE_READ",
        MemoryAdvice.PopulateWrite => "POPULATE_WRITE",
        MemoryAdvice.SoftOffline => "SOFT_OFFLINE",
        MemoryAdvice.GuardInstall => "GUARD_INSTALL",
        MemoryAdvice.GuardRemove => "GUARD_REMOVE",
        _ => advice.ToString().ToUpperInvariant(),
    };

    [Fact]
    public void EveryKernelNumberMatchesTheHeaders()
    {
        string? gcc = FindCompiler() ?? InstallCompiler();
        Assert.True(gcc is not null, "gcc is needed to read the C headers and could not be installed (apt-get install gcc needs root)");

        string dir = Directory.CreateTempSubdirectory("madvps-constants-").FullName;
        try
        {
            var source = new StringBuilder("#define _GNU_SOURCE\n#include <stdio.h>\n");
            foreach (string header in s_constants.Select(c => c.Header).Distinct())
            {
                source.Append("#include <").Append(header).Append(">\n");
            }

            source.Append("#ifndef __NR_cachestat\n#define __NR_cachestat 451\n#endif\n#define __NR_cachestat_or_451 __NR_cachestat\n");
            source.Append("#define dirent64_d_reclen offsetof(struct dirent64, d_reclen)\n#define dirent64_d_type offsetof(struct dirent64, d_type)\n#define dirent64_d_name offsetof(struct dirent64, d_name)\n");
            source.Append("int main(void){\n");
            foreach ((_, string name, _) in s_constants)
            {
                source.Append("#ifdef ").Append(name).Append('\n')
                    .Append("printf(\"").Append(name).Append(" %lld\\n\", (long long)(").Append(name).Append("));\n")
                    .Append("#endif\n");
            }

            source.Append("return 0;}\n");
            string sourcePath = Path.Combine(dir, "constants.c");
            File.WriteAllText(sourcePath, source.ToString());
            string binary = Path.Combine(dir, "constants");
            (int compiled, string compilerOutput) = Run(gcc!, sourcePath, "-o", binary);
            Assert.True(compiled == 0, compilerOutput);

            (int ran, string output) = Run(binary);
            Assert.Equal(0, ran);
            Dictionary<string, long> fromHeaders = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(parts => parts[0], parts => long.Parse(parts[1]));

            // The headers are older than the running kernel at most by the newest advice: all else must be there.
            string[] missing = s_constants.Select(c => c.Name).Where(n => !fromHeaders.ContainsKey(n) && !n.StartsWith("MADV_GUARD_", StringComparison.Ordinal)).ToArray();
            Assert.Empty(missing);
            long Unsigned32(long v) => v & 0xFFFFFFFFL;
            string[] wrong = s_constants
                .Where(c => fromHeaders.TryGetValue(c.Name, out long header) && header != c.Value && Unsigned32(header) != c.Value)
                .Select(c => $"{c.Name}: module {c.Value}, header {fromHeaders[c.Name]}")
                .ToArray();
            Assert.Empty(wrong);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A machine with only the .NET SDK has no C compiler: as root, the test installs Debian's.
    private static string? InstallCompiler()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            return null;
        }

        if (Run("/usr/bin/apt-get", "install", "-y", "-q", "gcc", "libc6-dev", "linux-libc-dev").ExitCode != 0)
        {
            Run("/usr/bin/apt-get", "update", "-q");
            Run("/usr/bin/apt-get", "install", "-y", "-q", "gcc", "libc6-dev", "linux-libc-dev");
        }

        return FindCompiler();
    }

    private static string? FindCompiler() =>
        new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/usr/bin/cc" }.FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process process = Process.Start(info)!;
        System.Threading.Tasks.Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
