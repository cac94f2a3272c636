enviroment = "staging"
