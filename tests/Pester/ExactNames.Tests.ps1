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
        Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
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
}
