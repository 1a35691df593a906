# Mapped file names read back byte for byte (PROCMAP_QUERY, the file's link), and the file cmdlets
# take them as written.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'Mapped file names are exact' {
    BeforeAll {
        $t = Start-TestTarget -AnonMiB 1
        $folder = "/var/tmp/madvps-names-$PID"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $ascii = -join ([char[]](1..127 | Where-Object { $_ -ne 47 }))
        function Map-File([string] $Path) {
            [System.IO.File]::WriteAllBytes($Path, [byte[]]::new(4096))
            $hex = [Convert]::ToHexString([System.Text.Encoding]::UTF8.GetBytes($Path))
            $answer = $t.Send("map-file-hex $hex")
            [Convert]::ToUInt64(($answer -split ' ')[1].Substring(2), 16)
        }
    }
    AfterAll {
        $t.Stop()
        # .NET cannot name files whose names are not UTF-8; rm takes the bytes.
        rm -rf -- $folder
    }

    It 'reads back <Label> exactly, not deleted, and Get-FileCache measures it' -ForEach @(
        @{ Label = "a file named 'x (deleted)'"; Leaf = 'x (deleted)' }
        @{ Label = 'a backslash'; Leaf = 'a\b' }
        @{ Label = 'a literal \012'; Leaf = 'a\012b' }
        @{ Label = 'a newline'; Leaf = "nl`nname" }
        @{ Label = 'every ASCII byte from 1 to 127 but /'; Leaf = 'ASCII' }
        @{ Label = 'UTF-8 beyond ASCII'; Leaf = 'é€ 😀' }
    ) {
        $leaf = if ($Leaf -eq 'ASCII') { $ascii } else { $Leaf }
        $path = "$folder/$leaf"
        $start = Map-File $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        $m | Should -HaveCount 1
        $m.Path | Should -BeExactly $path
        $m.IsDeleted | Should -BeFalse
        $c = $m | Get-FileCache -ErrorVariable errs2
        $errs2 | Should -BeNullOrEmpty
        $c.Path | Should -BeExactly $path
        $c.Cached | Should -Be 4096 -Because 'the target read its one page'
        (Get-FileCache -LiteralPath $path).Cached | Should -Be 4096
    }

    It 'a mapped file that was unlinked is IsDeleted with its name' {
        $path = "$folder/gone"
        $start = Map-File $path
        Remove-Item -LiteralPath $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start
        $m.IsDeleted | Should -BeTrue
        $m.Path | Should -BeExactly $path
    }

    It 'a file named ''y (deleted)'' that was unlinked is IsDeleted with that name' {
        $path = "$folder/y (deleted)"
        $start = Map-File $path
        Remove-Item -LiteralPath $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start
        $m.IsDeleted | Should -BeTrue
        $m.Path | Should -BeExactly $path
    }

    Context 'names that are not UTF-8' {
        BeforeAll {
            # The test's own bytes: perl creates, reads, stats and lists files by byte names, and
            # reads the kernel's link in /proc/PID/map_files, so nothing here goes through .NET's
            # (lossy) conversion of names or through the module.
            function Invoke-Perl([string] $Script) { perl -e $Script @args; if ($LASTEXITCODE) { throw "perl failed: $LASTEXITCODE" } }
            function New-ByteFile([string] $Hex, [int] $Pages) {
                Invoke-Perl 'open(my $f, ">", pack("H*", $ARGV[0])) or die "$!"; print $f "\0" x (4096 * $ARGV[1]); close($f) or die' $Hex $Pages
            }
            function Get-ByteInode([string] $Hex) { [ulong](Invoke-Perl 'my @s = stat(pack("H*", $ARGV[0])) or die "$!"; print $s[1]' $Hex) }
            function Get-ByteFincore([string] $Hex) {
                [long](Invoke-Perl 'exec("fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", "--", pack("H*", $ARGV[0])) or die' $Hex)
            }
            function Read-ByteFile([string] $Hex) { Invoke-Perl 'open(my $f, "<", pack("H*", $ARGV[0])) or die "$!"; local $/; my $d = <$f>;' $Hex }
            function Get-LinkHex([string] $Link) { Invoke-Perl 'my $l = readlink($ARGV[0]); defined $l or die "$!"; print unpack("H*", $l)' $Link }
            function Get-EntryHex([string] $Directory) { Invoke-Perl 'opendir(my $d, $ARGV[0]) or die; print join("\n", map { unpack("H*", $_) } grep { !/^\.\.?$/ } readdir($d))' $Directory }
            # The documented scheme, written again here: U+DC80..U+DCFF alone is the byte U+DC00+b,
            # everything else is UTF-8.
            function ConvertTo-NameHex([string] $Name) {
                $bytes = [System.Collections.Generic.List[byte]]::new()
                for ($i = 0; $i -lt $Name.Length; $i++) {
                    $c = [int]$Name[$i]
                    if ($c -ge 0xDC80 -and $c -le 0xDCFF) { $bytes.Add([byte]($c - 0xDC00)) }
                    elseif ([char]::IsHighSurrogate($Name[$i])) { $bytes.AddRange([Text.Encoding]::UTF8.GetBytes($Name.Substring($i, 2))); $i++ }
                    else { $bytes.AddRange([Text.Encoding]::UTF8.GetBytes([string]$Name[$i])) }
                }
                [Convert]::ToHexString($bytes.ToArray()).ToLowerInvariant()
            }
            $folderHex = [Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes("$folder/")).ToLowerInvariant()
            $every = [Convert]::ToHexString([byte[]](1..255 | Where-Object { $_ -ne 47 })).ToLowerInvariant()
        }

        It 'reads back <Label> as the kernel has it, and the file cmdlets open that very file' -ForEach @(
            @{ Label = 'every byte from 1 to 255 but /'; Leaf = 'EVERY' }
            @{ Label = 'the single byte 0x80'; Leaf = '80' }
            @{ Label = 'the single byte 0xff'; Leaf = 'ff' }
            @{ Label = 'high bytes among ASCII and UTF-8 (a, 0x80, é, 0xff 0xfe, €, a cut-off €)'; Leaf = '6180c3a9fffee282ace282' }
            @{ Label = "0xff and a backslash, ending in ' (deleted)'"; Leaf = 'ff5c62202864656c6574656429' }
            @{ Label = 'the UTF-8 of a surrogate (invalid UTF-8)'; Leaf = '78edb28079' }
        ) {
            $leafHex = if ($Leaf -eq 'EVERY') { $every } else { $Leaf }
            $pathHex = $folderHex + $leafHex
            New-ByteFile $pathHex 1
            # A decoy where a lossy conversion would land (every invalid byte read as U+FFFD), with
            # other figures: 3 pages, all cached. Too long a name for the full set, which has no decoy.
            $lossy = [Text.Encoding]::UTF8.GetBytes([Text.Encoding]::UTF8.GetString([Convert]::FromHexString($leafHex)))
            if ($lossy.Length -le 255) {
                $decoyHex = $folderHex + [Convert]::ToHexString($lossy).ToLowerInvariant()
                New-ByteFile $decoyHex 3
                Read-ByteFile $decoyHex
                Get-ByteInode $decoyHex | Should -Not -Be (Get-ByteInode $pathHex)
            }
            (Get-EntryHex $folder) -split "`n" | Should -Contain $leafHex -Because 'the directory holds the name with these bytes'

            $answer = $t.Send("map-file-hex $pathHex")
            $start = [Convert]::ToUInt64(($answer -split ' ')[1].Substring(2), 16)
            $m = Get-MemoryMapping -Id $t.Id -Address $start -ErrorVariable errs
            $errs | Should -BeNullOrEmpty
            $m | Should -HaveCount 1
            $m.IsDeleted | Should -BeFalse
            $m.Path.Contains([char]0xFFFD) | Should -BeFalse -Because 'no byte is lost to U+FFFD'
            ConvertTo-NameHex $m.Path | Should -BeExactly $pathHex
            $link = '/proc/{0}/map_files/{1:x}-{2:x}' -f $t.Id, $start, ($start + 4096)
            Get-LinkHex $link | Should -BeExactly $pathHex -Because 'the kernel names the mapped file with these bytes'

            $inode = Get-ByteInode $pathHex
            $m.Inode | Should -Be $inode
            $resident = Get-ByteFincore $pathHex
            $resident | Should -Be 4096 -Because 'the one page was written and read'
            $c = $m | Get-FileCache -ErrorVariable errs2
            $errs2 | Should -BeNullOrEmpty
            $c | Should -HaveCount 1
            $c.Inode | Should -Be $inode
            $c.Cached | Should -Be $resident
            ConvertTo-NameHex $c.Path | Should -BeExactly $pathHex
            $literal = Get-FileCache -LiteralPath $m.Path -ErrorVariable errs3
            $errs3 | Should -BeNullOrEmpty
            $literal.Inode | Should -Be $inode
            $advised = $m | Invoke-FileAdvice -Advice WillNeed -PassThru -ErrorVariable errs4
            $errs4 | Should -BeNullOrEmpty
            ConvertTo-NameHex $advised.Path | Should -BeExactly $pathHex
            $advised.CachedAfter | Should -Be $resident
        }

        It 'Get-FileCache -Recurse finds every file of the folder by its bytes, each the file the directory names' {
            # The folder now holds the files of the tests above, among them every kind of name.
            $entries = @(Invoke-Perl 'opendir(my $d, $ARGV[0]) or die; for (sort grep { !/^\.\.?$/ } readdir($d)) { my @s = lstat("$ARGV[0]/$_"); print unpack("H*", $_), " ", $s[1], "\n" if -f _ }' $folder)
            $entries.Count | Should -BeGreaterThan 10
            $walked = @(Get-FileCache -LiteralPath $folder -Recurse -ErrorVariable errs)
            $errs | Should -BeNullOrEmpty
            $seen = @($walked | ForEach-Object { '{0} {1}' -f (ConvertTo-NameHex $_.Path).Substring($folderHex.Length), $_.Inode } | Sort-Object)
            $seen | Should -Be @($entries | Sort-Object)
        }

        It 'a wildcard finds every file by its bytes, though PowerShell''s provider does not list such names' {
            $entries = @(Invoke-Perl 'opendir(my $d, $ARGV[0]) or die; for (sort grep { !/^\.\.?$/ } readdir($d)) { my @s = lstat("$ARGV[0]/$_"); print unpack("H*", $_), " ", $s[1], "\n" if -f _ }' $folder)
            $matched = @(Get-FileCache -Path "$folder/*" -ErrorVariable errs)
            $errs | Should -BeNullOrEmpty
            $seen = @($matched | ForEach-Object { '{0} {1}' -f (ConvertTo-NameHex $_.Path).Substring($folderHex.Length), $_.Inode } | Sort-Object)
            $seen | Should -Be @($entries | Sort-Object)
        }

        It 'a wildcard adds such names to those PowerShell''s provider finds' {
            $sub = "$folder/glob"
            New-Item -ItemType Directory -Path $sub | Out-Null
            $subHex = [Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes("$sub/")).ToLowerInvariant()
            foreach ($h in '706c61696e', '7080', '70ff', '7180', '2e7080') { New-ByteFile ($subHex + $h) 1 }
            $matched = @(Get-FileCache -Path "$sub/P*" -ErrorVariable errs)
            $errs | Should -BeNullOrEmpty
            ($matched | ForEach-Object { (ConvertTo-NameHex $_.Path).Substring($subHex.Length) } | Sort-Object) | Should -Be @('706c61696e', '7080', '70ff') -Because 'matched as the provider matches: ignoring case, no dot files'
            $matched | ForEach-Object { $_.Inode | Should -Be (Get-ByteInode (ConvertTo-NameHex $_.Path)) }
        }

        It 'such a file that was unlinked is IsDeleted with its bytes, and the file cmdlets refuse it' {
            $pathHex = $folderHex + '676f6e65ff80'
            New-ByteFile $pathHex 1
            $start = [Convert]::ToUInt64(($t.Send("map-file-hex $pathHex") -split ' ')[1].Substring(2), 16)
            Invoke-Perl 'unlink(pack("H*", $ARGV[0])) or die "$!"' $pathHex
            $link = '/proc/{0}/map_files/{1:x}-{2:x}' -f $t.Id, $start, ($start + 4096)
            Get-LinkHex $link | Should -BeExactly ($pathHex + [Convert]::ToHexString([Text.Encoding]::ASCII.GetBytes(' (deleted)')).ToLowerInvariant())
            $m = Get-MemoryMapping -Id $t.Id -Address $start
            $m.IsDeleted | Should -BeTrue
            ConvertTo-NameHex $m.Path | Should -BeExactly $pathHex
            $m | Get-FileCache -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errs | Should -HaveCount 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'MappedFileDeleted,*'
        }

        It 'a relative -LiteralPath with such a name opens the file it names' {
            $leafHex = '72656c80ff'
            New-ByteFile ($folderHex + $leafHex) 2
            $leaf = -join ([char]'r', [char]'e', [char]'l', [char]0xDC80, [char]0xDCFF)
            Push-Location -LiteralPath $folder
            try { $c = Get-FileCache -LiteralPath $leaf -ErrorVariable errs } finally { Pop-Location }
            $errs | Should -BeNullOrEmpty
            $c.Inode | Should -Be (Get-ByteInode ($folderHex + $leafHex))
            $c.Size | Should -Be 8192
            $c.Cached | Should -Be (Get-ByteFincore ($folderHex + $leafHex))
        }
    }
}
