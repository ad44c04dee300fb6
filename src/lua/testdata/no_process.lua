return { name = "no_process", proces = function() return {} end }
