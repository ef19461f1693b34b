VALUE = 'only a'
