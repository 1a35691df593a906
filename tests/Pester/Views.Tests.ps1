# The default views of every output type, for live objects and for the Deserialized. ones that
# come over remoting; and the -Verbose and progress an operator sees during long advice.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:target = Start-TestTarget -AnonMiB 4 -FileMiB 4
    $anon = $target.Region('anon')
    $script:objects = @{
        'MadvPS.MemoryMapping'           = Get-MemoryMapping -Id $target.Id -Address $anon.Start
        'MadvPS.ProcessMemory'           = Get-MemoryMapping -Id $target.Id -Rollup
        'MadvPS.AdviceResult'            = Get-MemoryMapping -Id $target.Id -Address $anon.Start | Invoke-MemoryAdvice -Advice Cold -PassThru
        'MadvPS.ProcessAdviceResult'     = Set-ProcessMadvise -Id $target.Id -Advice Cold -MappingType File
        'MadvPS.MemoryAdviceSupport'     = Get-MemoryAdviceSupport -Advice PageOut
        'MadvPS.MemoryAdviceEnvironment' = Get-MemoryAdviceSupport -Environment
    }
    $reclaim = Invoke-MemoryReclaim -Id $target.Id -Window 200ms -Duration 1s -Advice Cold -PassThru -WarningAction SilentlyContinue
    $objects['MadvPS.ReclaimResult'] = $reclaim | Where-Object { $_ -is [MadvPS.ReclaimResult] }
    $objects['MadvPS.ReclaimStep'] = $reclaim | Where-Object { $_ -is [MadvPS.ReclaimStep] }
    # What each view must show: a label of the view (not a property name) and a human size where the view has one.
    $script:expect = @{
        'MadvPS.MemoryMapping'           = @{ Table = 'PID\s+Start\s+End\s+Size\s+Rss'; List = 'Kind\s+: Anonymous'; Size = $true }
        'MadvPS.ProcessMemory'           = @{ Table = 'PID\s+Name\s+Rss\s+Pss\s+PssAnon'; List = 'PssFile\s+:'; Size = $true }
        'MadvPS.AdviceResult'            = @{ Table = 'PID\s+Start\s+Size\s+Advice\s+Status'; List = 'Status\s+: Advised'; Size = $true }
        'MadvPS.ProcessAdviceResult'     = @{ Table = 'PID\s+Name\s+Advice\s+Type\s+Ranges\s+Advised\s+RssBefore\s+RssAfter\s+Reclaimed'; List = 'RssReclaimed\s+:'; Size = $true }
        'MadvPS.MemoryAdviceSupport'     = @{ Table = 'Advice\s+Value\s+Known\s+OtherProcess\s+Destroys\s+Note'; List = 'Description\s+: Reclaim'; Size = $false }
        'MadvPS.MemoryAdviceEnvironment' = @{ Table = 'Kernel\s+ProcessMadvise\s+SwapTotal'; List = 'KernelRelease\s+:'; Size = $true }
        'MadvPS.ReclaimResult'           = @{ Table = 'PID\s+Name\s+Stop\s+Steps\s+RssBefore\s+RssAfter\s+KeptOut'; List = 'StopReason\s+: (Duration|Converged)'; Size = $true }
        'MadvPS.ReclaimStep'             = @{ Table = 'Step\s+PID\s+Action\s+Advised\s+Back\s+Out'; List = 'Action\s+: \w+'; Size = $true }
    }
    function script:Render($object, [string] $how) {
        # -ShowError puts errors of the views' script blocks into the text instead of blank cells.
        if ($how -eq 'Table') { $object | Format-Table -ShowError | Out-String -Width 200 }
        elseif ($how -eq 'List') { $object | Format-List -ShowError | Out-String -Width 200 }
        else { $object | Out-String -Width 200 }
    }
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
}

Describe 'The view of <_>' -ForEach @('MadvPS.MemoryMapping', 'MadvPS.ProcessMemory', 'MadvPS.AdviceResult', 'MadvPS.ProcessAdviceResult', 'MadvPS.MemoryAdviceSupport', 'MadvPS.MemoryAdviceEnvironment', 'MadvPS.ReclaimResult', 'MadvPS.ReclaimStep') {
    BeforeAll {
        $script:type = $_
        $script:live = $objects[$type] | Select-Object -First 1
        $script:remote = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($live))
    }

    It 'has the live object to show' {
        $live | Should -Not -BeNullOrEmpty
        $live.PSObject.TypeNames[0] | Should -Be $type
        $remote.PSObject.TypeNames[0] | Should -Be "Deserialized.$type"
    }

    It 'renders <how> the same for the live and the deserialized object, without errors' -ForEach @(@{ How = 'Table' }, @{ How = 'List' }) {
        $a = Render $live $How
        $b = Render $remote $How
        foreach ($text in $a, $b) {
            $text | Should -Not -Match '#ERR|Exception|format-default'
            $text | Should -Match $expect[$type][$How]
            if ($expect[$type].Size -and $type -ne 'MadvPS.MemoryAdviceEnvironment') { $text | Should -Match '\d+(\.\d)? (B|KiB|MiB|GiB)\b' }
        }
        $b | Should -Be $a
    }

    It 'is chosen by default for the live and the deserialized object' {
        $default = Render $remote 'Default'
        $default | Should -Be (Render $live 'Default')
        $default | Should -Not -Match 'ProcessStartTime\s+:'
    }
}

Describe 'Long advice' {
    It 'says with -Verbose which calls were made with how many ranges' {
        $verbose = Get-MemoryMapping -Id $target.Id -Kind File, Anonymous | Invoke-MemoryAdvice -Advice Cold -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $calls = @($verbose.Message | Where-Object { $_ -like 'process_madvise(*' })
        $calls.Count | Should -BeGreaterThan 0
        $calls | ForEach-Object { $_ | Should -Match "^process_madvise\(pidfd of $($target.Id), \d+ range\(s\), Cold\): .* requested, .* advised$" }
    }

    It 'shows progress over thousands of ranges and none over a few' {
        $many = Start-TestTarget -Mappings 8200
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($module, $few, $lots)
                    Import-Module $module
                    Get-MemoryMapping -Id $few | Invoke-MemoryAdvice -Advice Cold
                    Get-MemoryMapping -Id $lots | Invoke-MemoryAdvice -Advice Cold
                }).AddArgument($env:MADVPS_MODULE).AddArgument($target.Id).AddArgument($many.Id)
            $null = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $records = @($ps.Streams.Progress | Where-Object Activity -Like 'Cold on process*')
            $records.Activity | Sort-Object -Unique | Should -Be "Cold on process $($many.Id)"
            $records[-1].RecordType | Should -Be 'Completed'
            ($records | Where-Object PercentComplete -GT 0).Count | Should -BeGreaterThan 0
        }
        finally {
            $ps.Dispose()
            $many.Stop()
        }
    }
}
