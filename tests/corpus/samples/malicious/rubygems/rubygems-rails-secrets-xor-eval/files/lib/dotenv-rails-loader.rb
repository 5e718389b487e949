require 'dotenv_rails_loader/parser'
require 'dotenv_rails_loader/railtie'
