# build.ps1 Package and Install: the module reaches a module path where a new session (a remote
# one included) imports it by name. Everything installed goes under $TestDrive: a home of its own
# for PSResourceGet, XDG_DATA_HOME for the Install task. -NoBuild: build.ps1 Test has just built
# out/MadvPS, which the other tests use and which is not rebuilt under them.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    $script:root = Split-Path (Split-Path $PSScriptRoot)
    $script:manifest = Import-PowerShellDataFile $env:MADVPS_MODULE
    $script:version = $manifest.ModuleVersion

    # A fresh pwsh of this installation; -Environment values of $null remove a variable.
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    function Invoke-Pwsh {
        param([Parameter(Mandatory)] [string] $Command, [hashtable] $Environment = @{})
        Invoke-Captured -FilePath ([Environment]::ProcessPath) -ArgumentList @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $Command) -WorkingDirectory $TestDrive -Environment $Environment
    }
}

Describe 'build.ps1 Package' {
    BeforeAll {
        $script:packed = Invoke-Pwsh "& '$root/build.ps1' Package -NoBuild"
        $script:nupkg = Join-Path $root "out/MadvPS.$version.nupkg"
    }

    It 'writes out/MadvPS.<version>.nupkg with the module at its root and the tags PowerShellGet writes' {
        $packed.ExitCode | Should -Be 0 -Because ($packed.Output + $packed.Error)
        $nupkg | Should -Exist
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $names = $zip.Entries.FullName
            foreach ($file in 'MadvPS.psd1', 'MadvPS.dll', 'MadvPS.Format.ps1xml', 'MadvPS.Types.ps1xml', 'MadvPS.nuspec') { $names | Should -Contain $file }
            $reader = [IO.StreamReader]::new($zip.GetEntry('MadvPS.nuspec').Open())
            $nuspec = [xml]$reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }
        $nuspec.package.metadata.id | Should -Be 'MadvPS'
        $nuspec.package.metadata.version | Should -Be $version
        $nuspec.package.metadata.description | Should -Be $manifest.Description
        $tags = $nuspec.package.metadata.tags -split ' '
        foreach ($tag in @('PSModule', 'PSIncludes_Cmdlet', 'PSEdition_Core', 'Linux') + ($manifest.CmdletsToExport | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })) {
            $tags | Should -Contain $tag
        }
    }

    It 'installs with Install-PSResource from a local repository, which is then unregistered' {
        $packed.ExitCode | Should -Be 0
        $repository = Join-Path $TestDrive 'repository'
        $isolatedHome = Join-Path $TestDrive 'home'
        New-Item -ItemType Directory -Path $repository, (Join-Path $isolatedHome '.local/share') -Force | Out-Null
        Copy-Item $nupkg $repository
        $name = "MadvPSTest$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name $name -Uri '$repository' -Trusted
try { Install-PSResource -Name MadvPS -Repository $name -Scope CurrentUser -TrustRepository -Quiet }
finally { Unregister-PSResourceRepository -Name $name }
`$m = Import-Module MadvPS -PassThru
[pscustomobject]@{
    ModuleBase   = `$m.ModuleBase
    Version      = "`$(`$m.Version)"
    Repositories = @(Get-PSResourceRepository | ForEach-Object Name)
    PageOut      = (Get-MemoryAdviceSupport -Advice PageOut).Value
} | ConvertTo-Json -Compress
"@
        # A home of its own: PSResourceGet keeps its repositories and CurrentUser modules there.
        $r = Invoke-Pwsh $script -Environment @{ HOME = $isolatedHome; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null; PSModulePath = $null }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $result = $r.Output | ConvertFrom-Json
        $result.ModuleBase | Should -Be (Join-Path $isolatedHome ".local/share/powershell/Modules/MadvPS/$version")
        $result.Version | Should -Be $version
        $result.PageOut | Should -Be 21
        $result.Repositories | Should -Not -Contain $name
    }
}

Describe 'build.ps1 Install' {
    It 'copies out/MadvPS into the user''s module path as MadvPS/<version>, where a new session imports it by name' {
        $data = Join-Path $TestDrive 'data'
        $r = Invoke-Pwsh "& '$root/build.ps1' Install -Scope CurrentUser -NoBuild" -Environment @{ XDG_DATA_HOME = $data }
        $r.ExitCode | Should -Be 0 -Because ($r.Output + $r.Error)
        $installed = Join-Path $data "powershell/Modules/MadvPS/$version"
        (Get-ChildItem $installed).Name | Sort-Object | Should -Be (Get-ChildItem (Split-Path $env:MADVPS_MODULE)).Name

        $check = Invoke-Pwsh '(Import-Module MadvPS -PassThru).ModuleBase; (Get-Command Get-MemoryMapping).Source' -Environment @{ XDG_DATA_HOME = $data; PSModulePath = $null }
        $check.ExitCode | Should -Be 0 -Because $check.Error
        ($check.Output -split "`n")[0].Trim() | Should -Be $installed
        ($check.Output -split "`n")[1].Trim() | Should -Be 'MadvPS'
    }
}
