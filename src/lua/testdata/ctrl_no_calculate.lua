return { name = "nothing", calc = function() end }
